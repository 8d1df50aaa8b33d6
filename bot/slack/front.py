"""The front process of `medic serve`: it owns the port, answers Alertmanager's webhook itself
(validate, one insert into the alert inbox, 200) and passes every other request to the bot's own
server on a unix socket.

Investigations are CPU-bound Python; in the bot's process every request waits for the GIL behind
them. Here nothing else runs, so the webhook answers in milliseconds whatever the bot is doing, and
a notification answered is stored: the bot's intake worker takes it from the inbox (woken through a
pipe, and by its own polling should a wake be lost). The process lives as long as its parent: it
stops when its stdin closes, and the parent starts it again should it die. The receivers of
other tools' alerts (``/webhook/...``, :mod:`bot.slack.receivers`) are answered here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from bot.config.front import ReceiverSettings
from bot.database import state_engine
from bot.errors import ConfigError
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
from bot.slack.deliveries import SharedDeliveries
from bot.slack.inbox import AlertInbox, inbox_engine
from bot.slack.metrics import WebhookMetrics
from bot.slack.receivers import ReceiverWebhooks
from bot.slack.webhook import AlertmanagerWebhook

log = logging.getLogger(__name__)

# Headers that describe one connection or encoding, set again on each side.
NOT_PASSED = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
     "upgrade"}
)  # fmt: skip
MAX_RESTART_DELAY = 30.0


class FrontConfig(BaseModel):
    """What the front process needs, sent as one JSON line on its stdin (never in argv: the
    webhook token is a secret)."""

    listen_fd: int
    wake_fd: int
    bot_socket: str
    data_dir: str
    token: str | None
    max_body_bytes: int
    receivers: dict[str, Any] = {}  # ReceiverSettings, secrets revealed (see config.revealed)
    database_url: str | None = None  # the state database (SQLite in data_dir when None)
    log_level: str = "info"


class FrontServer:
    """The ASGI application of the front process."""

    def __init__(
        self,
        webhook: AlertmanagerWebhook,
        bot: httpx.AsyncClient,
        registry: CollectorRegistry,
        receivers: ReceiverWebhooks | None = None,
    ) -> None:
        self._webhook = webhook
        self._receivers = receivers
        self._bot = bot
        self._registry = registry
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = header_dict(scope)
        receivers = self._receivers
        if receivers is not None and receivers.handles(scope["path"]):
            if scope["method"] != "POST":
                await respond(send, 405, {"error": "method not allowed"})
                return
            answer = await receivers.answer(scope["path"], receive, headers, self._run)
            await respond(send, answer.status, answer.body)
        elif scope["path"] != "/alertmanager":
            await self._pass_on(scope, headers, receive, send)
        elif scope["method"] != "POST":
            await respond(send, 405, {"error": "method not allowed"})
        else:
            answer = await self._webhook.answer(receive, headers, self._run)
            await respond(send, answer.status, answer.body)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _pass_on(self, scope: Scope, headers: dict[str, str], receive: Receive,
                       send: Send) -> None:  # fmt: skip
        """The request, as it came, to the bot; its answer, as it came, back (with the
        webhook's metrics added to the bot's)."""
        try:
            body = await read_body(receive, headers, MAX_BODY)
        except BodyTooLargeError:
            await respond(send, 413, {"error": "too large"})
            return
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            answer = await self._bot.request(
                scope["method"],
                scope["path"] + (f"?{query}" if query else ""),
                headers=[(k, v) for k, v in scope["headers"] if k.decode() not in NOT_PASSED],
                content=body,
            )
        except httpx.HTTPError as exc:
            await respond(send, 503, {"status": "unavailable", "error": f"the bot: {exc!r}"})
            return
        content = answer.content
        if scope["path"] == "/metrics" and answer.status_code == 200:
            content += generate_latest(self._registry)
        out = [(k.encode(), v.encode()) for k, v in answer.headers.multi_items()
               if k.lower() not in NOT_PASSED]  # fmt: skip
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})


def shared_deliveries(config: FrontConfig) -> SharedDeliveries | None:
    """The replay ledger on the state database the bot migrated before starting this process;
    None (this process's memory) when PagerDuty is not enabled or the database cannot be opened:
    the webhook keeps answering either way."""
    if not ReceiverSettings.model_validate(config.receivers).pagerduty.enabled:
        return None
    try:
        engine = state_engine(Path(config.data_dir), config.database_url, migrate=False)
    except (ConfigError, SQLAlchemyError) as exc:
        log.error("replays of PagerDuty deliveries are checked in this process only: %s", exc)
        return None
    return SharedDeliveries(engine)


def main() -> None:
    """The front process (``python -m bot.slack.front``), configured on its stdin."""
    config = FrontConfig.model_validate_json(sys.stdin.readline())
    os.set_blocking(config.wake_fd, False)

    def wake_the_bot() -> None:
        # A full pipe: the bot has wakes waiting already; a broken one: it is gone.
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(config.wake_fd, b"\x01")

    registry = CollectorRegistry()
    inbox = AlertInbox(inbox_engine(Path(config.data_dir)))
    metrics = WebhookMetrics(registry)
    webhook = AlertmanagerWebhook(
        inbox, metrics, token=config.token, max_body_bytes=config.max_body_bytes
    )
    webhook.on_queued = wake_the_bot
    receivers = ReceiverWebhooks(
        inbox,
        metrics,
        ReceiverSettings.model_validate(config.receivers),
        max_body_bytes=config.max_body_bytes,
        deliveries=shared_deliveries(config),
    )
    receivers.on_queued = wake_the_bot
    bot = httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(uds=config.bot_socket),
        base_url="http://medic",
        timeout=30.0,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            FrontServer(webhook, bot, registry, receivers),
            log_level=config.log_level,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )

    def stop_with_the_bot() -> None:
        sys.stdin.read()  # returns at EOF: the bot closed the pipe, or died
        server.should_exit = True

    threading.Thread(target=stop_with_the_bot, name="lifeline", daemon=True).start()
    server.run(sockets=[socket.socket(fileno=config.listen_fd)])


class FrontProcess:
    """The bot's side: starts the front process with the listening socket and the bot's unix
    socket, wakes the intake worker when it says a notification was queued, and starts it again
    should it die."""

    def __init__(
        self,
        *,
        listen_fd: int,
        bot_socket: str,
        data_dir: Path,
        token: str | None,
        max_body_bytes: int,
        on_queued: Callable[[], None],
        receivers: dict[str, Any] | None = None,
        database_url: str | None = None,
        log_level: str = "info",
    ) -> None:
        self._config = FrontConfig(
            listen_fd=listen_fd,
            wake_fd=-1,  # a new pipe for each start
            bot_socket=bot_socket,
            data_dir=str(data_dir),
            token=token,
            max_body_bytes=max_body_bytes,
            receivers=receivers or {},
            database_url=database_url,
            log_level=log_level,
        )
        self._on_queued = on_queued
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._watcher = threading.Thread(target=self._run, name="front-process", daemon=True)
        self._watcher.start()

    def _run(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self._run_once()
            if self._stopping.is_set():
                return
            delay = 0.5 if time.monotonic() - started > 60 else min(delay * 2, MAX_RESTART_DELAY)
            log.error("the front process exited (%s); starting it again in %.1f s", code, delay)
            self._stopping.wait(delay)

    def _run_once(self) -> int | str | None:
        """Run the front process until it ends; its exit code (or why it did not start)."""
        wake_read, wake_write = os.pipe()
        with os.fdopen(wake_read, "rb", buffering=0) as wakes:
            try:
                with self._lock:
                    if self._stopping.is_set():
                        return None
                    # A session of its own: a Ctrl-C on the terminal stops the bot, which then
                    # stops it; it never dies first and gets restarted on the way out.
                    process = self._process = subprocess.Popen(
                        [sys.executable, "-m", "bot.slack.front"],
                        stdin=subprocess.PIPE,
                        pass_fds=(self._config.listen_fd, wake_write),
                        start_new_session=True,
                    )
            except OSError as exc:
                return f"not started: {exc}"
            finally:
                os.close(wake_write)
            config = self._config.model_copy(update={"wake_fd": wake_write})
            assert process.stdin is not None
            # BrokenPipeError: it died at once (its wakes end below); ValueError: stopped.
            with contextlib.suppress(BrokenPipeError, ValueError):
                process.stdin.write(config.model_dump_json().encode() + b"\n")
                process.stdin.flush()
            while wakes.read(4096):  # b"" at EOF: the process ended
                self._on_queued()
        return process.wait()

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.stdin is not None:
            process.stdin.close()  # its lifeline: it shuts down
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._watcher is not None:
            self._watcher.join(timeout=timeout)


if __name__ == "__main__":
    main()
