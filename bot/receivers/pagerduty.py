"""PagerDuty's v3 webhooks: the signature checked, an incident event made an alert group.

PagerDuty signs each delivery with the subscription's secret (developer.pagerduty.com, "Verifying
Signatures", docs/webhooks/04-Signatures.md in PagerDuty/developer-docs): ``X-PagerDuty-Signature``
holds one or more comma-separated ``v1=<hex HMAC-SHA256 of the raw body>``, several while a secret
rotates; the delivery is genuine when any one matches, compared in constant time. The body is
``{"event": {"id", "event_type", "resource_type", "occurred_at", "agent", "data"}}``, where
``data`` is the incident (id, html_url, number, status, title, incident_key, created_at,
service{id, summary, html_url}, urgency, priority) - the shape of PagerDuty's own example
payloads. ``incident.triggered`` and ``incident.reopened`` fire, ``incident.resolved`` resolves;
every other event (acknowledged, annotated, escalated, ...) is accepted and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import OrderedDict
from enum import Enum
from threading import Lock
from typing import Any

from bot.errors import InputError
from bot.receivers.shape import (
    alert_time,
    label,
    links,
    object_or_empty,
    require_object,
    text,
)

KIND = "pagerduty"
FIRING_EVENTS = {"incident.triggered", "incident.reopened"}
RESOLVED_EVENTS = {"incident.resolved"}
MAX_SIGNATURES = 8
SERVICE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def signature_valid(body: bytes, header: str | None, secrets: list[str]) -> bool:
    """Whether any ``v1=`` signature in ``header`` is the HMAC-SHA256 of ``body`` under any of
    ``secrets``."""
    if not header:
        return False
    given = [part.strip()[3:] for part in header.split(",")[:MAX_SIGNATURES]
             if part.strip().startswith("v1=")]  # fmt: skip
    expected = [hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets]
    return any(hmac.compare_digest(g.encode(), e.encode()) for g in given for e in expected)


class Claim(Enum):
    """What a replay ledger says of a delivery it is asked to take."""

    TAKEN = "taken"  # this request stores it
    REPLAYED = "replayed"  # stored before: answered 200 and dropped
    # Another request claimed it and has not said it is stored yet: it may be storing it now (a
    # copy at the same instant) or have died doing so (kill -9). Answered 503, so the sender
    # tries again - and then finds it stored, or the claim's lease run out and takes it.
    PENDING = "pending"


class SeenEvents:
    """Event ids delivered lately (at most ``size``), so a replayed delivery is taken once even
    after its incident resolved. Kept in memory: a restart forgets them, and a replay then
    reaches the incident store, which attaches a firing copy to an open incident."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = Lock()

    def seen(self, event_id: str) -> bool:
        with self._lock:
            return bool(event_id) and event_id in self._seen

    def remember(self, event_id: str) -> None:
        """Called once the delivery is stored: one that failed to be stored is taken again."""
        if not event_id:
            return
        with self._lock:
            self._remember(event_id)

    def claim(self, event_id: str) -> Claim:
        """Record ``event_id`` and say whether this call was the first: the check and the record
        are one step, so two copies arriving at once are taken once ("" is always taken). In
        memory a claimer cannot die and leave its claim behind, so nothing is ever pending."""
        if not event_id:
            return Claim.TAKEN
        with self._lock:
            if event_id in self._seen:
                return Claim.REPLAYED
            self._remember(event_id)
            return Claim.TAKEN

    def stored(self, event_id: str) -> None:
        """The claimed delivery is in the inbox (in memory the claim already says so)."""

    def release(self, event_id: str) -> None:
        """Forget a claim whose delivery could not be stored, so a retry of it is taken."""
        with self._lock:
            self._seen.pop(event_id, None)

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        self._seen.move_to_end(event_id)
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)


def service_of(incident: dict[str, Any], services: dict[str, str]) -> tuple[str, str]:
    """(namespace, service) of a PagerDuty incident: its PagerDuty service mapped in the
    configuration (by id or name), else that service's name when it is a Kubernetes name."""
    pd_service = object_or_empty(incident.get("service"))
    for key in (text(pd_service.get("id"), 100), text(pd_service.get("summary"), 200)):
        if key and key in services:
            namespace, _, name = services[key].rpartition("/")
            return namespace, name
    name = text(pd_service.get("summary"), 200)
    return "", name if SERVICE_NAME.fullmatch(name) else ""


def pagerduty_group(payload: Any, services: dict[str, str]) -> dict[str, Any] | None:
    """An Alertmanager-shaped group for an incident event; None for an event Medic ignores."""
    payload = require_object(payload, "the webhook")
    event = require_object(payload.get("event"), "event")
    event_type = text(event.get("event_type"), 80)
    if event_type not in FIRING_EVENTS | RESOLVED_EVENTS:
        return None
    incident = require_object(event.get("data"), "event.data")
    incident_id = label(incident.get("id"))
    if not incident_id:
        raise InputError("malformed alert: event.data.id (the incident) is missing")
    status = "firing" if event_type in FIRING_EVENTS else "resolved"
    namespace, service = service_of(incident, services)
    title = text(incident.get("title"), 300) or f"PagerDuty incident {incident_id}"
    labels = {"alertname": label(title), "pagerduty_incident": incident_id}
    if service:
        labels["service"] = service
    if namespace:
        labels["namespace"] = namespace
    priority = object_or_empty(incident.get("priority"))
    urgency = label(priority.get("summary")) or label(incident.get("urgency"))
    if urgency:
        labels["severity"] = urgency
    started = alert_time(incident.get("created_at") or event.get("occurred_at"),
                         "event.data.created_at")  # fmt: skip
    alert: dict[str, Any] = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": title},
        "startsAt": started,
        "fingerprint": f"pagerduty:{incident_id}",
    }
    if status == "resolved":
        alert["endsAt"] = alert_time(event.get("occurred_at") or started, "event.occurred_at")
    pd_service = object_or_empty(incident.get("service"))
    ids = {"incident": incident_id}
    if incident.get("number") is not None:
        ids["number"] = label(incident.get("number"))
    return {
        "version": "4",
        "groupKey": f"pagerduty:{incident_id}",
        "status": status,
        "alerts": [alert],
        "medicSource": {
            "kind": KIND,
            "ids": ids,
            "links": links(
                ("PagerDuty incident", incident.get("html_url")),
                ("PagerDuty service", pd_service.get("html_url")),
            ),
        },
    }
