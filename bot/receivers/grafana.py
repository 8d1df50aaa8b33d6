"""Grafana Alerting's webhook contact point: the notification it sends, made an alert group.

Grafana's payload is Alertmanager's with ``version: "1"`` and a few fields more per alert
(documented at grafana.com/docs/grafana/latest/alerting/configure-notifications/
manage-contact-points/integrations/webhook-notifier/ - "Webhook JSON payload": receiver, status,
orgId, groupKey, groupLabels, commonLabels, externalURL, alerts[] with labels, annotations,
startsAt, endsAt ("0001-01-01T00:00:00Z" while firing), generatorURL, fingerprint, silenceURL,
dashboardURL, panelURL, values). The alerts pass as they are; the links become the group's
source, shown in the thread.
"""

from __future__ import annotations

from typing import Any

from bot.errors import InputError
from bot.receivers.shape import label, links, require_object, text

KIND = "grafana"
MAX_ALERTS = 500


def grafana_group(payload: Any) -> dict[str, Any]:
    """An Alertmanager-shaped group (``version`` 4) with Grafana's links as its source."""
    payload = require_object(payload, "the notification")
    version = text(payload.get("version"), 20)
    if version != "1":
        raise InputError(f'malformed alert: Grafana webhook version {version!r}; expected "1"')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise InputError("malformed alert: alerts must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise InputError(f"malformed alert: more than {MAX_ALERTS} alerts in one notification")
    first = require_object(alerts[0], "alerts.0")
    group = {key: payload[key] for key in ("groupKey", "status", "receiver", "groupLabels",
             "commonLabels", "commonAnnotations") if key in payload}  # fmt: skip
    group["version"] = "4"
    group["groupKey"] = f"grafana:{text(payload.get('groupKey'), 1000)}" if payload.get(
        "groupKey") else ""  # fmt: skip
    group["alerts"] = [_alert(require_object(a, f"alerts.{i}")) for i, a in enumerate(alerts)]
    group["medicSource"] = {
        "kind": KIND,
        "ids": {"fingerprint": label(first.get("fingerprint"))} if first.get("fingerprint") else {},
        "links": links(
            ("Grafana rule", first.get("generatorURL")),
            ("dashboard", first.get("dashboardURL")),
            ("panel", first.get("panelURL")),
            ("silence", first.get("silenceURL")),
            ("Grafana", payload.get("externalURL")),
        ),
    }
    return group


def _alert(alert: dict[str, Any]) -> dict[str, Any]:
    """One alert as Alertmanager sends it (Grafana's extra fields dropped)."""
    kept = ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")
    return {key: alert[key] for key in kept if key in alert}
