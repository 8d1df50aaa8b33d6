"""Each vendor's payload as its documentation shows it (the sources are cited beside each), with
the simulated shop's recommender as the service. Used by the contract and end-to-end tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

SERVICE_LABELS = {"service": "recommender", "namespace": "shop"}


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def grafana(starts: float, status: str = "firing") -> dict[str, Any]:
    """grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/
    integrations/webhook-notifier/ ("Webhook JSON payload")."""
    alert = {
        "status": status,
        "labels": {"alertname": "RecommenderLatencyHigh", "team": "blue", **SERVICE_LABELS},
        "annotations": {"summary": "recommender p95 latency above 500 ms",
                        "description": "The system has high latency"},
        "startsAt": iso(starts),
        "endsAt": iso(starts + 600) if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "https://grafana.example.com/alerting/grafana/1afz29v7z/view",
        "fingerprint": "c6eadffa33fcdf37",
        "silenceURL": "https://grafana.example.com/alerting/silence/new?matchers=alertname%3DT2",
        "dashboardURL": "https://grafana.example.com/d/shop",
        "panelURL": "https://grafana.example.com/d/shop?viewPanel=3",
        "values": {"B": 712.5, "C": 1},
    }  # fmt: skip
    return {
        "receiver": "medic",
        "status": status,
        "orgId": 1,
        "alerts": [alert],
        "groupLabels": {"alertname": "RecommenderLatencyHigh"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "https://grafana.example.com/",
        "version": "1",
        "groupKey": '{}/{}:{alertname="RecommenderLatencyHigh"}',
        "truncatedAlerts": 0,
        "orgId_": 1,
        "title": "[FIRING:1] RecommenderLatencyHigh",
        "state": "alerting",
        "message": "**Firing** ...",
    }


def datadog(starts: float, transition: str = "Triggered", **changes: Any) -> dict[str, Any]:
    """Medic's documented Datadog payload template (README) filled in as Datadog fills its
    variables (docs.datadoghq.com/integrations/webhooks/, "Variables")."""
    payload = {
        "id": "7286921938456293485",
        "alert_id": "12345678",
        "cycle_key": "8364573451123",
        "title": f"[{transition}] Recommender latency high",
        "transition": transition,
        "status": "avg(last_5m):p95:trace.http.request{service:recommender} > 0.5",
        "priority": "P1",
        "tags": "env:prod,service:recommender,kube_namespace:shop",
        "scope": "service:recommender",
        "link": "https://app.datadoghq.com/event/event?id=7286921938456293485",
        "date": str(int(starts * 1000)),
        "hostname": "",
    }
    payload.update(changes)
    return payload


EVENT_ID = "5ac64822-4adc-4fda-ade0-410becf0de4f"


def pagerduty(
    starts: float, event_type: str = "incident.triggered", event_id: str = EVENT_ID
) -> dict[str, Any]:
    """A v3 webhook event in the shape of PagerDuty's example payloads (developer.pagerduty.com,
    Webhooks v3 "Overview"/event types)."""
    return {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": iso(starts + (600 if event_type == "incident.resolved" else 0)),
            "agent": {"html_url": "https://acme.pagerduty.com/users/PLH1HKV", "id": "PLH1HKV",
                      "self": "https://api.pagerduty.com/users/PLH1HKV",
                      "summary": "Tenex Engineer", "type": "user_reference"},
            "client": {"name": "PagerDuty"},
            "data": {
                "id": "PGR0VU2",
                "type": "incident",
                "self": "https://api.pagerduty.com/incidents/PGR0VU2",
                "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
                "number": 2,
                "status": "resolved" if event_type == "incident.resolved" else "triggered",
                "incident_key": "d3640fbd41094207a1c11e58e46b1662",
                "created_at": iso(starts),
                "title": "Recommender latency high",
                "service": {"html_url": "https://acme.pagerduty.com/services/PF9KMXH",
                            "id": "PF9KMXH", "self": "https://api.pagerduty.com/services/PF9KMXH",
                            "summary": "Recommender API", "type": "service_reference"},
                "assignees": [],
                "escalation_policy": {"id": "PUS0KTE", "type": "escalation_policy_reference"},
                "teams": [],
                "priority": {"id": "PSO75BM", "summary": "P1", "type": "priority_reference"},
                "urgency": "high",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }  # fmt: skip


def opsgenie(starts: float, action: str = "Create") -> dict[str, Any]:
    """docs.opsgenie.com "Webhook Integration": alert action data (createdAt in milliseconds,
    updatedAt in nanoseconds), with the alert's details sent."""
    return {
        "source": {"name": "web", "type": "API"},
        "alert": {
            "updatedAt": int((starts + 600) * 1e9),
            "tags": ["service:recommender", "team:blue"],
            "teams": ["team1"],
            "recipients": ["recipient1"],
            "message": "Recommender latency high",
            "username": "sre@example.com",
            "alertId": "052652ac-5d1c-464a-812a-7dd18bbfba8c",
            "source": "prometheus",
            "alias": "recommender-latency",
            "tinyId": "23",
            "createdAt": int(starts * 1000),
            "userId": "daed1180-0ce8-438b-8f8e-57e1a5920a2d",
            "entity": "recommender",
            "details": {"namespace": "shop"},
            "priority": "P2",
        },
        "action": action,
        "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d",
        "integrationName": "Medic",
    }


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def pd_signature(raw: bytes, *secrets: str) -> str:
    """X-PagerDuty-Signature: ``v1=<hex HMAC-SHA256>`` per secret, comma-separated."""
    return ",".join(f"v1={hmac.new(s.encode(), raw, hashlib.sha256).hexdigest()}"
                    for s in secrets)  # fmt: skip
