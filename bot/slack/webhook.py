"""`POST /alertmanager`: Alertmanager's webhook (version 4). Checks the optional bearer token,
validates the payload (400 with the reason), and hands the notification to the incident threads;
the answer comes before any investigation, and once it is 200 the notification is persisted."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from bot.alerts import parse_alerts
from bot.errors import ConfigError, InputError
from bot.slack.metrics import BotMetrics
from bot.slack.threads import IncidentThreads


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any]


class AlertmanagerWebhook:
    def __init__(
        self,
        threads: IncidentThreads,
        metrics: BotMetrics,
        *,
        token: str | None,
        max_body_bytes: int,
    ) -> None:
        self._threads = threads
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
        self._metrics.webhook_rejected.labels(reason).inc()
        return WebhookResponse(status, {"error": error})

    def handle(self, authorization: str | None, body: bytes) -> WebhookResponse:
        started = time.perf_counter()
        if not self.authorized(authorization):
            return self.reject(401, "unauthorized", "missing or wrong bearer token")
        if len(body) > self.max_body_bytes:
            return self.reject(413, "too_large", f"body over {self.max_body_bytes} bytes")
        try:
            group = parse_alerts(body)
            if group.version != "4":
                raise InputError(f"unsupported webhook version {group.version!r}; expected 4")
            receipt = self._threads.receive(group, source="alertmanager")
        except InputError as exc:
            return self.reject(400, "malformed", str(exc))
        except ConfigError as exc:
            return self.reject(503, "config", str(exc))
        self._metrics.intake_seconds.observe(time.perf_counter() - started)
        return WebhookResponse(
            200,
            {
                "thread": receipt.thread_key,
                "incidents": receipt.incidents,
                "investigating": receipt.investigating,
                "withdrawn": receipt.withdrawn,
            },
        )
