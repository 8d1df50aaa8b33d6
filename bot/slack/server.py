"""The bot's HTTP side, as a small ASGI application run by uvicorn:

- ``POST /slack/events``: events, slash commands and interactivity, verified and dispatched by Bolt
  (absent in Socket Mode, where Slack talks over a WebSocket instead);
- ``POST /alertmanager`` and ``POST /webhook/<source>``: the Alertmanager webhook and the
  receivers of other tools' alerts, when it runs in this process (under
  `medic serve` it runs in the front process instead, see :mod:`bot.slack.front`);
- ``GET /healthz`` and ``GET /metrics`` (Prometheus text format).

Blocking work (Bolt's ack path, intake) runs on a thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App, BoltRequest
from slack_bolt.request.internals import build_context

from bot.errors import InputError
from bot.payloads import MAX_DEPTH, check_depth
from bot.slack.asgi import (
    MAX_BODY,
    BodyTooLargeError,
    Receive,
    Scope,
    Send,
    header_dict,
    lifespan,
    read_body,
    respond,
)
from bot.slack.metrics import BotMetrics
from bot.slack.receivers import ReceiverWebhooks
from bot.slack.webhook import AlertmanagerWebhook

Handler = Callable[[Scope, dict[str, str], Receive, Send], Awaitable[None]]


class SlackRequest(BoltRequest):
    """A Bolt request that reads a slash command's form right even when its text contains the
    word "payload": bolt-python (1.30) then takes the form for an interactivity payload, finds
    none and drops the command (``/medic search cache payload`` would go unanswered).

    A body Bolt cannot take (not JSON, nested too deeply, not an object) raises InputError:
    answered 400, where Bolt's own parser would end in a 500."""

    def __init__(
        self,
        *,
        body: str,
        query: str | dict[str, Any] | None,
        headers: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> None:
        try:
            super().__init__(body=body, query=query, headers=headers, context=context)
        except RecursionError as exc:
            raise InputError(f"JSON nested more than {MAX_DEPTH} levels deep") from exc
        except ValueError as exc:  # JSONDecodeError
            raise InputError(f"not JSON ({exc})") from exc
        except (AttributeError, TypeError) as exc:  # a JSON value that is not an object
            raise InputError("expected a JSON object") from exc
        if not isinstance(self.body, dict):
            raise InputError("expected a JSON object")
        check_depth(self.body, "request body")
        problem = shape_problem(self.body)
        if problem is not None:
            raise InputError(problem)
        if not self.body and body and self.content_type == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" not in form:
                self.body = form
                self.context = build_context(self.context, form)

    def to_copyable(self) -> BoltRequest:
        return SlackRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
        )


# The parts of Slack's payloads that Bolt reads into without checking: each must be an object.
OBJECTS = ("event", "view", "message", "user", "team", "channel", "container", "enterprise",
           "workflow_step", "state")  # fmt: skip
EVENT_OBJECTS = ("message", "previous_message", "workflow_step", "item", "view")
LISTS = ("actions", "authorizations")
# Where Slack answers go: Bolt's ``respond`` strips it as text, so anything else fails only when
# Medic answers (a refusal told to the clicker), after the ack, as an error in the log.
STRINGS = ("response_url",)


def shape_problem(body: dict[str, Any]) -> str | None:
    """What in a Slack payload is not shaped as Slack shapes it (Bolt would fail on it with a
    500); None when Bolt can take it."""
    for key in OBJECTS:
        if key in body and not isinstance(body[key], dict):
            return f"{key} must be an object"
    for key in STRINGS:
        if key in body and not isinstance(body[key], str):
            return f"{key} must be a string"
    for key in LISTS:
        items = body.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return f"{key} must be a list of objects"
    if body.get("type") == "block_actions" and not body.get("actions"):
        return "block_actions without actions"
    event = body.get("event", {})
    if body.get("type") == "event_callback" and not isinstance(event.get("type"), str):
        return "event_callback without an event type"
    for key in EVENT_OBJECTS:
        if event.get(key) is not None and not isinstance(event[key], dict):
            return f"event.{key} must be an object"
    return None


def timestamp_problem(headers: dict[str, str]) -> str | None:
    """Why the signature's timestamp cannot be checked (Bolt would answer that with a 500)."""
    timestamp = headers.get("x-slack-request-timestamp")
    if timestamp is not None and not (timestamp.isascii() and timestamp.strip().isdigit()):
        return "X-Slack-Request-Timestamp is not a number of seconds"
    return None


class MedicServer:
    def __init__(
        self,
        *,
        bolt: App | None,
        webhook: AlertmanagerWebhook | None,
        metrics: BotMetrics,
        health: Callable[[], dict[str, Any]],
        workers: int = 8,
        receivers: ReceiverWebhooks | None = None,
    ) -> None:
        self._bolt = bolt
        self._webhook = webhook
        self._receivers = receivers
        self._metrics = metrics
        self._health = health
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        headers = header_dict(scope)
        routes: dict[tuple[str, str], Handler] = {
            ("GET", "/healthz"): self._healthz,
            ("GET", "/metrics"): self._prometheus,
        }
        if self._webhook is not None:
            routes[("POST", "/alertmanager")] = self._alertmanager
        if self._bolt is not None:
            routes[("POST", "/slack/events")] = self._slack
        handler = routes.get((method, path))
        if self._receivers is not None and self._receivers.handles(path):
            handler = self._receiver if method == "POST" else None
            routes[("POST", path)] = self._receiver
        if handler is None:
            known = {p for _m, p in routes}
            status = 405 if path in known else 404
            await respond(send, status, {"error": "method not allowed" if status == 405 else
                                         "not found"})  # fmt: skip
            return
        await handler(scope, headers, receive, send)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _alertmanager(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        webhook = self._webhook
        assert webhook is not None
        answer = await webhook.answer(receive, headers, self._run)
        await respond(send, answer.status, answer.body)

    async def _receiver(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        receivers = self._receivers
        assert receivers is not None
        answer = await receivers.answer(scope["path"], receive, headers, self._run)
        await respond(send, answer.status, answer.body)

    async def _slack(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        assert self._bolt is not None
        started = time.perf_counter()
        try:
            body = await read_body(receive, headers, MAX_BODY)
        except BodyTooLargeError:
            await respond(send, 413, {"error": "too large"})
            return
        problem = timestamp_problem(headers)
        if problem is not None:
            await respond(send, 400, {"error": problem})
            return
        try:
            request = await self._run(
                lambda: SlackRequest(
                    body=body.decode("utf-8", errors="replace"),
                    query=scope.get("query_string", b"").decode("latin-1"),
                    headers={k: [v] for k, v in headers.items()},
                )
            )
        except InputError as exc:
            await respond(send, 400, {"error": f"malformed request: {exc}"})
            return
        response = await self._run(self._bolt.dispatch, request)
        out_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, values in response.headers.items()
            for v in values
        ]
        await send(
            {"type": "http.response.start", "status": response.status, "headers": out_headers}
        )
        await send({"type": "http.response.body", "body": response.body.encode()})
        self._metrics.slack_ack_seconds.observe(time.perf_counter() - started)

    async def _healthz(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        health = await self._run(self._health)
        await respond(send, 200 if health.get("status") == "ok" else 503, health)

    async def _prometheus(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        body = await self._run(self._metrics.exposition)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
