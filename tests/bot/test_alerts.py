from __future__ import annotations

import json

import pytest

from bot.alerts import parse_alerts
from bot.errors import InputError

ALERT = {
    "status": "firing",
    "labels": {"alertname": "HighLatency", "service": "recommender", "namespace": "shop"},
    "annotations": {"summary": "slow"},
    "startsAt": "2026-11-28T10:00:00Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "fingerprint": "abc123",
}


def test_webhook_payload_is_parsed() -> None:
    group = parse_alerts(
        json.dumps({"version": "4", "groupKey": "g", "status": "firing", "alerts": [ALERT]})
    )
    alert = group.alerts[0]
    assert (group.group_key, alert.name, alert.service, alert.identity) == (
        "g",
        "HighLatency",
        "recommender",
        "abc123",
    )


def test_a_bare_alert_is_accepted_as_a_group_of_one() -> None:
    assert parse_alerts(ALERT).alerts[0].service == "recommender"


def test_missing_fingerprint_falls_back_to_a_stable_label_hash() -> None:
    bare = {k: v for k, v in ALERT.items() if k != "fingerprint"}
    reordered = {**bare, "labels": dict(reversed(list(ALERT["labels"].items())))}  # type: ignore[call-overload]
    assert parse_alerts(bare).alerts[0].identity == parse_alerts(reordered).alerts[0].identity


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (json.dumps({"alerts": []}), "alerts"),
        (json.dumps({"alerts": [{**ALERT, "startsAt": "yesterday"}]}), "startsAt"),
        (json.dumps({"alerts": [{**ALERT, "status": "exploded"}]}), "status"),
        (json.dumps({"alerts": [{**ALERT, "labels": {}}]}), "labels"),
    ],
)
def test_malformed_payloads_name_the_problem(payload: bytes | str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_alerts(payload)
