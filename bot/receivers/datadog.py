"""Datadog's webhook integration: the payload of Medic's documented template (README, "Alerts
from Grafana, Datadog, ..."), made an alert group.

Datadog sends what the webhook's Payload field says, with its variables filled in (documented at
docs.datadoghq.com/integrations/webhooks/ - "Variables": $ALERT_ID the monitor's id,
$ALERT_CYCLE_KEY linking the events from trigger to resolve, $ALERT_TRANSITION one of Recovered,
Triggered/Re-Triggered, No Data/Re-No Data, Warn/Re-Warn, Renotify, $DATE the event's epoch in
milliseconds, $TAGS and $ALERT_SCOPE comma-separated ``key:value`` tags, $LINK the event's page).
Datadog retries on a 5xx and on missed connections (5 times), so one transition can arrive twice:
the alert's identity is the monitor and its scope, and a copy attaches to the open incident.
"""

from __future__ import annotations

import re
from typing import Any

from bot.errors import InputError
from bot.receivers.shape import alert_time, label, links, require_object, text

KIND = "datadog"
RESOLVED = {"recovered"}
FIRING = {"triggered", "re-triggered", "warn", "re-warn", "no data", "re-no data", "renotify"}
SERVICE_TAGS = ("service", "kube_service", "kube_deployment", "app")
NAMESPACE_TAGS = ("kube_namespace", "namespace")
MAX_TAGS = 200


def tags(*texts: str) -> dict[str, str]:
    """``key:value`` tags from Datadog's comma-separated lists (the first value of a key wins)."""
    found: dict[str, str] = {}
    for listed in texts:
        for item in listed.split(",")[:MAX_TAGS]:
            key, sep, value = item.strip().partition(":")
            if sep and key and value and key not in found:
                found[key[:60]] = label(value)
    return found


def datadog_group(payload: Any, now: float) -> dict[str, Any]:
    """An Alertmanager-shaped group for one Datadog monitor transition."""
    payload = require_object(payload, "the notification")
    monitor = label(payload.get("alert_id"))
    if not monitor:
        raise InputError("malformed alert: alert_id ($ALERT_ID) is missing")
    transition = text(payload.get("transition"), 40)
    if transition.lower() not in RESOLVED | FIRING:
        raise InputError(
            f"malformed alert: transition ($ALERT_TRANSITION) {transition[:40]!r} is not one of "
            "Triggered, Re-Triggered, Warn, No Data, Renotify, Recovered"
        )
    status = "resolved" if transition.lower() in RESOLVED else "firing"
    found = tags(text(payload.get("tags"), 5000), text(payload.get("scope"), 2000))
    scope = text(payload.get("scope"), 500)
    title = text(payload.get("title"), 300)
    # "[Triggered on {host:a}] Checkout latency" -> "Checkout latency"
    name = re.sub(r"^(\[[^\]]*\]\s*)+", "", title).strip() or f"Datadog monitor {monitor}"
    labels = {"alertname": label(name), "datadog_monitor": monitor}
    service = next((found[k] for k in SERVICE_TAGS if found.get(k)), "")
    namespace = next((found[k] for k in NAMESPACE_TAGS if found.get(k)), "")
    if service:
        labels["service"] = service
    if namespace:
        labels["namespace"] = namespace
    if payload.get("priority"):
        labels["severity"] = label(payload.get("priority"))
    at = alert_time(payload.get("date") or now, "date ($DATE)")
    alert: dict[str, Any] = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": title or name, "description": text(payload.get("status"))},
        "startsAt": at,
        "fingerprint": f"datadog:{monitor}:{scope}"[:200],
    }
    if status == "resolved":
        alert["endsAt"] = at
    pairs = (("monitor", monitor), ("event", label(payload.get("id"))),
             ("cycle", label(payload.get("cycle_key"))))  # fmt: skip
    return {
        "version": "4",
        "groupKey": f"datadog:{monitor}:{scope}"[:300],
        "status": status,
        "alerts": [alert],
        "medicSource": {
            "kind": KIND,
            "ids": {k: v for k, v in pairs if v},
            "links": links(("Datadog event", payload.get("link"))),
        },
    }
