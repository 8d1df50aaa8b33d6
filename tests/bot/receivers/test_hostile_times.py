"""Absurd times in every receiver's time field, as JSON can carry them: each is a 422 naming the
field, never an exception (a 500, and the vendor retrying it for ever)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.bot.receivers import payloads
from tests.bot.receivers.payloads import pd_signature
from tests.bot.receivers.test_receivers import (  # noqa: F401  (the fixture)
    PD_SECRET,
    SECRET,
    STARTS,
    TOKEN,
    Receivers,
    receivers,
)

ABSURD: list[Any] = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", -1, -1e18, 1e300, -1e300,
                     10**400, "1e300", "NaN", "-5", "yesterday", True, 2**63,
                     "2026-13-45T99:99:99Z"]  # fmt: skip


def _generic(t: Any) -> dict[str, Any]:
    return {"events": [{"check": "C", "svc": {"name": "recommender"}, "at": t, "id": "1"}]}


def _grafana(t: Any) -> dict[str, Any]:
    payload = payloads.grafana(STARTS)
    payload["alerts"][0]["startsAt"] = t
    return payload


def _pagerduty(t: Any) -> dict[str, Any]:
    payload = payloads.pagerduty(STARTS, event_id=f"ev-{t!r}")
    payload["event"]["data"]["created_at"] = t
    return payload


def _opsgenie(t: Any) -> dict[str, Any]:
    payload = payloads.opsgenie(STARTS)
    payload["alert"]["createdAt"] = t
    return payload


SOURCES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "grafana": _grafana,
    "datadog": lambda t: payloads.datadog(STARTS, date=t),
    "pagerduty": _pagerduty,
    "opsgenie": _opsgenie,
    "generic/nagios": _generic,
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_absurd_times_are_a_422_never_an_exception(
    receivers: Receivers,  # noqa: F811
    source: str,
) -> None:
    for when in ABSURD:
        raw = json.dumps(SOURCES[source](when)).encode()
        headers = {
            "grafana": {"Authorization": f"Bearer {TOKEN}"},
            "pagerduty": {"X-PagerDuty-Signature": pd_signature(raw, PD_SECRET)},
        }.get(source, {"X-Medic-Token": SECRET})
        answer = receivers.post(source, raw, **headers)
        assert answer.status == 422, (when, answer.body)
    assert receivers.queued() == []
