"""Any JSON sender: its documents made an alert group through a mapping in the configuration
(``receivers.generic.<name>``: where alertname, service, namespace, status, severity, starts_at,
fingerprint, summary and link are, as JSON Pointer or dotted paths)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.config.front import GenericMapping
from bot.errors import InputError
from bot.receivers.shape import alert_time, label, links, lookup, require_object, text

KIND = "generic"
MAX_ALERTS = 500


def generic_group(payload: Any, name: str, mapping: GenericMapping, now: float) -> dict[str, Any]:
    """An Alertmanager-shaped group from one document of the sender ``name``."""
    if mapping.alerts:
        found = lookup(payload, mapping.alerts)
        if not isinstance(found, list) or not found:
            raise InputError(f"malformed alert: {mapping.alerts} must be a non-empty list")
        if len(found) > MAX_ALERTS:
            raise InputError(f"malformed alert: more than {MAX_ALERTS} alerts in one document")
        documents = found
    else:
        documents = [payload]
    alerts = [_alert(require_object(d, f"alert {i}"), name, mapping, now)
              for i, d in enumerate(documents)]  # fmt: skip
    first = require_object(documents[0], "alert 0")
    return {
        "version": "4",
        "groupKey": f"{KIND}:{name}:{alerts[0]['fingerprint']}",
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "alerts": alerts,
        "medicSource": {
            "kind": KIND,
            "ids": {"sender": name},
            "links": links((name, lookup(first, mapping.link))),
        },
    }


def _alert(document: dict[str, Any], name: str, mapping: GenericMapping, now: float) -> dict[
        str, Any]:  # fmt: skip
    service = label(lookup(document, mapping.service))
    if not service:
        raise InputError(f"malformed alert: no service at {mapping.service}")
    alertname = label(lookup(document, mapping.alertname)) or f"{name} alert"
    labels = {"alertname": alertname, "service": service}
    for key, path in (("namespace", mapping.namespace), ("severity", mapping.severity)):
        value = label(lookup(document, path))
        if value:
            labels[key] = value
    said = text(lookup(document, mapping.status), 40).lower()
    resolved = {v.lower() for v in mapping.resolved_values}
    status = "resolved" if said and said in resolved else "firing"
    fingerprint = label(lookup(document, mapping.fingerprint))
    if not fingerprint:
        canonical = json.dumps(labels, sort_keys=True)
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    at = alert_time(lookup(document, mapping.starts_at) or now, mapping.starts_at or "starts_at")
    alert: dict[str, Any] = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": text(lookup(document, mapping.summary)) or alertname},
        "startsAt": at,
        "fingerprint": f"{KIND}:{name}:{fingerprint}",
    }
    if status == "resolved":
        alert["endsAt"] = at
    return alert
