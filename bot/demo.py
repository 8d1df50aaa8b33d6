"""The alerts of the simulated scenarios: what Alertmanager would send when a scenario's alert
fires in the simulated cluster (the demo's recommender latency alert, and every scenario of the
suite). Used by `medic demo`, the scenario evaluation, tests and benchmarks alike."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from tools.sim import Scenario


def scenario_alert(scenario: Scenario, anchor: float) -> dict[str, Any]:
    """An Alertmanager v4 webhook payload for the scenario's alert, relative to ``anchor``."""
    labels = dict(scenario.alert_labels)
    starts = datetime.fromtimestamp(anchor + scenario.alert_offset, UTC)
    fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    group_labels = {"alertname": labels["alertname"], "service": labels["service"]}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{labels["alertname"]}", service="{labels["service"]}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "medic",
        "groupLabels": group_labels,
        "commonLabels": labels,
        "commonAnnotations": dict(scenario.alert_annotations),
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": dict(scenario.alert_annotations),
                "startsAt": starts.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph",
                "fingerprint": fingerprint,
            }
        ],
    }
