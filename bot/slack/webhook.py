"""`POST /alertmanager`: Alertmanager's webhook (version 4). Checks the optional bearer token and
the payload (400 with the reason), writes the notification to the alert inbox and answers: once
the answer is 200 the notification is persisted, and everything else happens after it."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.alerts import AlertGroup, parse_alerts
from bot.errors import InputError
from bot.slack.asgi import BodyTooLargeError, Receive, read_body
from bot.slack.inbox import AlertInbox
from bot.slack.metrics import WebhookMetrics
from tools import SERVICE_LABELS

# Runs a blocking function off the event loop: (function, *args) -> its result.
Runner = Callable[..., Awaitable[Any]]


def checked_group(text: str, now: float) -> AlertGroup:
    """The alert group in ``text`` if Medic can take it in: version 4, and a service label on
    every firing alert; InputError saying what is wrong otherwise."""
    group = parse_alerts(text, now=now)
    if group.version != "4":
        raise InputError(f"unsupported webhook version {group.version!r}; expected 4")
    for alert in group.alerts:
        if alert.status == "firing" and alert.service is None:
            raise InputError(
                f"alert {alert.name} has no service label (looked for {', '.join(SERVICE_LABELS)})"
            )
    return group


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any]


class AlertmanagerWebhook:
    def __init__(
        self,
        inbox: AlertInbox,
        metrics: WebhookMetrics,
        *,
        token: str | None,
        max_body_bytes: int,
    ) -> None:
        self._inbox = inbox
        self.on_queued: Callable[[], None] = lambda: None
        self._metrics = metrics
        self._token = token
        self.max_body_bytes = max_body_bytes

    def authorized(self, authorization: str | None) -> bool:
        """Alertmanager's ``http_config.authorization`` sends ``Authorization: Bearer TOKEN``."""
        if self._token is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), self._token)

    def reject(self, status: int, reason: str, error: str) -> WebhookResponse:
        self._metrics.rejected.labels(reason).inc()
        return WebhookResponse(status, {"error": error})

    async def answer(
        self, receive: Receive, headers: dict[str, str], run: Runner
    ) -> WebhookResponse:
        """Read the request (refused beyond the size limit) and handle it with ``run``, off the
        event loop."""
        try:
            body = await read_body(receive, headers, self.max_body_bytes)
        except BodyTooLargeError:
            return self.reject(413, "too_large", f"body over {self.max_body_bytes} bytes")
        answer: WebhookResponse = await run(self.handle, headers.get("authorization"), body)
        return answer

    def handle(self, authorization: str | None, body: bytes) -> WebhookResponse:
        started = time.perf_counter()
        if not self.authorized(authorization):
            return self.reject(401, "unauthorized", "missing or wrong bearer token")
        if len(body) > self.max_body_bytes:
            return self.reject(413, "too_large", f"body over {self.max_body_bytes} bytes")
        now = time.time()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.reject(400, "malformed", "malformed alert: the body is not UTF-8")
        try:
            group = checked_group(text, now)
            if group.source is not None:  # only Medic's receivers say where an alert came from
                raise InputError("malformed alert: medicSource is set by Medic's receivers only")
        except InputError as exc:
            return self.reject(400, "malformed", str(exc))
        queued = self._inbox.add(text, "alertmanager", now)
        self.on_queued()
        self._metrics.intake_seconds.observe(time.perf_counter() - started)
        return WebhookResponse(200, {"queued": queued, "alerts": len(group.alerts)})
