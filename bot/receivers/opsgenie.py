"""Opsgenie's outgoing webhook integration: an alert action made an alert group.

The body (docs.opsgenie.com, "Webhook Integration" and its alert action data) is ``{"action":
"Create" | "Close" | "Acknowledge" | "AddNote" | ..., "alert": {alertId, message, tags, tinyId,
entity, alias, createdAt (epoch ms), updatedAt (epoch ns), username, source, details (on Create
and custom actions, when the integration sends them), description}, "source": {name, type},
"integrationId", "integrationName"}``. Create fires, Close (and Delete) resolves; every other
action is accepted and ignored. The Kubernetes service is the ``service`` detail, else a
``service:NAME`` tag, else the entity; the namespace the ``namespace`` detail or tag.
"""

from __future__ import annotations

from typing import Any

from bot.errors import InputError
from bot.receivers.shape import (
    alert_time,
    label,
    list_or_empty,
    object_or_empty,
    require_object,
    text,
)

KIND = "opsgenie"
FIRING_ACTIONS = {"create"}
RESOLVED_ACTIONS = {"close", "delete"}
MAX_TAGS = 100


def _tag(tags: list[Any], key: str) -> str:
    for tag in tags[:MAX_TAGS]:
        name, sep, value = text(tag, 200).partition(":")
        if sep and name.strip() == key and value.strip():
            return label(value)
    return ""


def opsgenie_group(payload: Any, now: float) -> dict[str, Any] | None:
    """An Alertmanager-shaped group for an alert action; None for an action Medic ignores."""
    payload = require_object(payload, "the webhook")
    action = text(payload.get("action"), 60).lower()
    if action not in FIRING_ACTIONS | RESOLVED_ACTIONS:
        return None
    alert = require_object(payload.get("alert"), "alert")
    alert_id = label(alert.get("alertId"))
    if not alert_id:
        raise InputError("malformed alert: alert.alertId is missing")
    details = object_or_empty(alert.get("details"))
    tags = list_or_empty(alert.get("tags"))
    service = label(details.get("service")) or _tag(tags, "service") or label(alert.get("entity"))
    namespace = label(details.get("namespace")) or _tag(tags, "namespace")
    message = text(alert.get("message"), 300) or f"Opsgenie alert {alert_id}"
    labels = {"alertname": label(message), "opsgenie_alert": alert_id}
    if service:
        labels["service"] = service
    if namespace:
        labels["namespace"] = namespace
    if alert.get("priority"):
        labels["severity"] = label(alert.get("priority"))
    status = "firing" if action in FIRING_ACTIONS else "resolved"
    started = alert_time(alert.get("createdAt") or now, "alert.createdAt")
    group_alert: dict[str, Any] = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": message, "description": text(alert.get("description"))},
        "startsAt": started,
        "fingerprint": f"opsgenie:{alert_id}",
    }
    if status == "resolved":
        group_alert["endsAt"] = alert_time(alert.get("updatedAt") or now, "alert.updatedAt")
    ids = {"alert": alert_id}
    if alert.get("tinyId"):
        ids["tiny"] = label(alert.get("tinyId"))
    return {
        "version": "4",
        "groupKey": f"opsgenie:{alert_id}",
        "status": status,
        "alerts": [group_alert],
        "medicSource": {"kind": KIND, "ids": ids, "links": []},
    }
