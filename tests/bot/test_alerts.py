from __future__ import annotations

import json
import re
from datetime import UTC, datetime

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


NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (12345, "startsAt: 1970-01-01T03:25:45+00:00 is before 2000-01-01"),
        ("0001-01-01T00:00:00Z", "startsAt: 0001-01-01T00:00:00+00:00 is before 2000-01-01"),
        ("2000-01-01T00:29:59+00:30", "startsAt: 2000-01-01T00:29:59+00:30 is before 2000-01-01"),
        ("2026-12-06T12:00:00", "startsAt: has no timezone"),
        ("2026-12-06", "startsAt: has no timezone"),
        ("2027-12-07T12:00:00Z", "startsAt: 2027-12-07T12:00:00+00:00 is more than a year ahead"),
        ("9999-12-31T23:59:59+14:00", "startsAt: 9999-12-31T23:59:59+14:00 is more than a"),
    ],
)
def test_times_no_real_alert_has_are_refused_naming_the_field(
    starts_at: object, message: str
) -> None:
    with pytest.raises(InputError, match=re.escape(f"malformed alert: alerts.0.{message}")):
        parse_alerts({"alerts": [{**ALERT, "startsAt": starts_at}]}, now=NOW)


def test_times_real_alerts_have_are_accepted() -> None:
    """A day-old alert still firing, a sender a minute ahead, any offset, Unix seconds, and
    Alertmanager's endsAt of a firing alert (Go's zero time: no end yet)."""
    for starts_at in (NOW - 86400, "2026-12-06T12:01:00Z", "2026-12-06T13:30:00+01:30"):
        alert = parse_alerts({**ALERT, "startsAt": starts_at}, now=NOW).alerts[0]
        assert alert.starts_at.tzinfo is not None and alert.ends_at is None
    ended = parse_alerts({**ALERT, "endsAt": "2026-11-28T10:05:00Z"}, now=NOW).alerts[0]
    assert ended.ends_at == datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


def test_ends_at_is_held_to_the_same_limits() -> None:
    with pytest.raises(InputError, match=r"alerts\.0\.endsAt: 1970-01-01T00:00:00"):
        parse_alerts({"alerts": [{**ALERT, "endsAt": "1970-01-01T00:00:00Z"}]})
