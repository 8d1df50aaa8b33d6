"""``POST /webhook/<source>``: alerts from Grafana, Datadog, PagerDuty, Opsgenie and configured
JSON senders. Each source has its own authentication; its payload is made an Alertmanager-shaped
alert group (:mod:`bot.receivers`), checked as Alertmanager's is, and written to the same alert
inbox - from there on every source is the same alert group: one thread per group, resolved
updates it, refiring starts a new investigation.

Answers, each one line: 404 a source that is not enabled, 401 a request without the source's
credentials, 413 a body over the limit, 400 a body that is not JSON, 422 JSON that is not the
source's payload (or an alert Medic cannot take), 200 queued - or ignored, for the events a
source sends that are no alert (PagerDuty's acknowledgements, Opsgenie's notes), which must not
be retried.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from bot.config.front import ReceiverSettings, SharedSecretReceiver
from bot.errors import InputError
from bot.payloads import load_json
from bot.receivers import (
    Claim,
    SeenEvents,
    datadog_group,
    generic_group,
    grafana_group,
    opsgenie_group,
    pagerduty_group,
    signature_valid,
)
from bot.slack.asgi import BodyTooLargeError, Receive, read_body
from bot.slack.deliveries import delivery_key
from bot.slack.inbox import AlertInbox
from bot.slack.metrics import WebhookMetrics
from bot.slack.webhook import Runner, WebhookResponse, checked_group

PREFIX = "/webhook/"
KINDS = ("grafana", "datadog", "pagerduty", "opsgenie", "generic")


def _same(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode(), secret.encode())


def shared_secret_valid(headers: dict[str, str], secret: str) -> bool:
    """The secret in ``X-Medic-Token``, or as ``Authorization: Bearer <secret>``."""
    token = headers.get("x-medic-token")
    if token is not None:
        return _same(token.strip(), secret)
    scheme, _, given = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and _same(given.strip(), secret)


# A PagerDuty copy that meets the same event being taken in (or left claimed by a request that
# died) is answered 503 with this: a deliberate "retry", which the sender's retry settles.
RETRY_LATER = "the same event is being taken in; retry"


def retry_later(status: int, body: str) -> bool:
    """Whether an answer (its status and body as sent) is that deliberate 503: fuzzers count it
    apart from failures."""
    if status != 503:
        return False
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("error") == RETRY_LATER


class DeliveryLedger(Protocol):
    """Which signed deliveries were taken in already (:class:`bot.receivers.SeenEvents` in
    memory, :class:`bot.slack.deliveries.SharedDeliveries` shared by every replica)."""

    def seen(self, event_id: str) -> bool: ...

    def remember(self, event_id: str) -> None: ...

    def claim(self, event_id: str) -> Claim:
        """Record ``event_id`` as claimed; TAKEN when this call was the first (check and record
        are one step: two copies at the same instant are taken once)."""
        ...

    def stored(self, event_id: str) -> None:
        """The claimed delivery is in the inbox."""
        ...

    def release(self, event_id: str) -> None:
        """Forget the claim of a delivery that could not be stored."""
        ...


class ReceiverWebhooks:
    def __init__(
        self,
        inbox: AlertInbox,
        metrics: WebhookMetrics,
        settings: ReceiverSettings,
        *,
        max_body_bytes: int,
        clock: Callable[[], float] = time.time,
        deliveries: DeliveryLedger | None = None,
    ) -> None:
        """``deliveries`` remembers PagerDuty's event ids against replays: give the shared one
        (the state database) wherever several replicas or a restart may see the same delivery;
        the default remembers them in this process only."""
        self._inbox = inbox
        self._metrics = metrics
        self._settings = settings
        self._clock = clock
        self._seen: DeliveryLedger = deliveries if deliveries is not None else SeenEvents()
        self.max_body_bytes = max_body_bytes
        self.on_queued: Callable[[], None] = lambda: None

    def handles(self, path: str) -> bool:
        return path.startswith(PREFIX)

    def _reject(self, source: str, status: int, reason: str, error: str) -> WebhookResponse:
        self._metrics.rejected.labels(reason).inc()
        self._metrics.receiver_requests.labels(source, reason).inc()
        return WebhookResponse(status, {"error": error})

    async def answer(
        self, path: str, receive: Receive, headers: dict[str, str], run: Runner
    ) -> WebhookResponse:
        """Read the request (refused beyond the size limit) and handle it off the event loop."""
        source = path.removeprefix(PREFIX)[:80]
        try:
            body = await read_body(receive, headers, self.max_body_bytes)
        except BodyTooLargeError:
            kind = source.partition("/")[0]
            return self._reject(kind if kind in KINDS else "unknown", 413, "too_large",
                                f"body over {self.max_body_bytes} bytes")  # fmt: skip
        answer: WebhookResponse = await run(self.handle, source, headers, body)
        return answer

    def handle(self, source: str, headers: dict[str, str], body: bytes) -> WebhookResponse:
        """One request to ``/webhook/<source>``: authenticated, translated, checked, queued."""
        started = time.perf_counter()
        kind, _, name = source.partition("/")
        authenticate = self._authenticator(kind, name)
        if authenticate is None:
            return self._reject("unknown", 404, "not_enabled",
                                f"no receiver {source[:60]!r} is enabled")  # fmt: skip
        if not authenticate(headers, body):
            return self._reject(kind, 401, "unauthorized", f"missing or wrong {kind} credentials")
        if len(body) > self.max_body_bytes:
            return self._reject(kind, 413, "too_large", f"body over {self.max_body_bytes} bytes")
        try:
            payload = load_json(body, "malformed alert")
        except InputError as exc:
            return self._reject(kind, 400, "malformed", str(exc))
        now = self._clock()
        try:
            translated = self._translate(kind, name, payload, now)
            if translated is None:
                self._metrics.receiver_requests.labels(kind, "ignored").inc()
                return WebhookResponse(200, {"ignored": "not an alert event"})
            text = json.dumps(translated, separators=(",", ":"))
            group = checked_group(text, now)
        except InputError as exc:
            return self._reject(kind, 422, "malformed", str(exc)[:500])
        event_id = self._event_id(payload) if kind == "pagerduty" else ""
        claim = self._seen.claim(event_id)  # claimed first, so a copy racing this one stops
        if claim is Claim.REPLAYED:
            self._metrics.receiver_requests.labels(kind, "replayed").inc()
            return WebhookResponse(200, {"ignored": "event delivered before"})
        if claim is Claim.PENDING:  # being stored, or its claimer died: the retry settles it
            self._metrics.receiver_requests.labels(kind, "pending").inc()
            return WebhookResponse(503, {"error": RETRY_LATER})
        try:
            queued = self._inbox.add(text, kind, now)
        except BaseException:
            self._seen.release(event_id)  # not stored: PagerDuty's retry must be taken
            raise
        self._seen.stored(event_id)
        self.on_queued()
        self._metrics.receiver_requests.labels(kind, "queued").inc()
        self._metrics.intake_seconds.observe(time.perf_counter() - started)
        return WebhookResponse(200, {"queued": queued, "alerts": len(group.alerts)})

    @staticmethod
    def _event_id(payload: dict[str, Any]) -> str:
        """PagerDuty's event id as a fixed-size key (hashed, never cut: two long ids sharing a
        prefix are two deliveries); "" when the event has none."""
        event = payload.get("event")
        found = event.get("id") if isinstance(event, dict) else None
        if found is None or found == "" or isinstance(found, dict | list):
            return ""
        return delivery_key(f"pagerduty:{found}")

    def _authenticator(
        self, kind: str, name: str
    ) -> Callable[[dict[str, str], bytes], bool] | None:
        """How the source ``kind`` (``name`` for a generic sender) is authenticated; None when it
        is not enabled."""
        settings = self._settings
        if name and kind != "generic":
            return None
        shared: SharedSecretReceiver | None = {
            "datadog": settings.datadog,
            "opsgenie": settings.opsgenie,
            "generic": settings.generic.get(name),
        }.get(kind)
        if shared is not None:
            secret = shared.secret
            if not shared.enabled or secret is None:
                return None
            return lambda headers, _body: shared_secret_valid(headers, secret.get_secret_value())
        if kind == "grafana" and settings.grafana.enabled:
            return self._grafana_valid
        if kind == "pagerduty" and settings.pagerduty.enabled:
            secrets = [s.get_secret_value() for s in settings.pagerduty.secrets]
            return lambda headers, body: signature_valid(
                body, headers.get("x-pagerduty-signature"), secrets
            )
        return None

    def _grafana_valid(self, headers: dict[str, str], _body: bytes) -> bool:
        """Grafana's webhook sends ``Authorization: <scheme> <credentials>`` (Bearer unless the
        contact point names another scheme) or HTTP basic authentication."""
        grafana = self._settings.grafana
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic" and grafana.password is not None:
            try:
                decoded = base64.b64decode(given.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            user, _, password = decoded.partition(":")
            return _same(user, grafana.username or "") & _same(
                password, grafana.password.get_secret_value()
            )
        return grafana.token is not None and _same(given.strip(), grafana.token.get_secret_value())

    def _translate(self, kind: str, name: str, payload: Any, now: float) -> dict[str, Any] | None:
        if kind == "grafana":
            return grafana_group(payload)
        if kind == "datadog":
            return datadog_group(payload, now)
        if kind == "pagerduty":
            return pagerduty_group(payload, self._settings.pagerduty.services)
        if kind == "opsgenie":
            return opsgenie_group(payload, now)
        return generic_group(payload, name, self._settings.generic[name], now)
