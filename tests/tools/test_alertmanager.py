"""silence against a real Alertmanager (API v2); a lost answer never creates a second silence."""

from __future__ import annotations

from typing import Any

import httpx

from tests.services.alertmanager import alertmanager_url  # noqa: F401  (fixture)
from tools.actions import Action, ToolStatus
from tools.alertmanager import AlertmanagerSilences
from tools.backends import Backends, SilenceRequest
from tools.catalog import TOOLS, ToolContext
from tools.retry import RetryPolicy
from tools.sim import SimulatedCluster

NOW = 1_800_000_000.0
ACTION = Action(
    "silence",
    "shop",
    "recommender",
    {
        "matchers": {"alertname": "RecommenderLatencyHigh", "service": "recommender"},
        "duration_minutes": 90,
    },
)


def silences(url: str) -> list[dict[str, Any]]:
    return [
        s for s in httpx.get(f"{url}/api/v2/silences").json() if s["status"]["state"] != "expired"
    ]


def run(sim: SimulatedCluster, backend: AlertmanagerSilences, dry_run: bool, now: float):  # type: ignore[no-untyped-def]
    context = ToolContext(Backends(sim, sim, backend), now, "medic for U1", "p-123")
    return TOOLS["silence"].run(context, ACTION, dry_run)


def test_silence_is_created_with_the_incident_matchers_and_duration(
    alertmanager_url: str,  # noqa: F811
    sim: SimulatedCluster,
) -> None:
    import time

    backend = AlertmanagerSilences.from_url(alertmanager_url)
    now = time.time()
    preview = run(sim, backend, True, now)
    assert preview.status is ToolStatus.DRY_RUN and silences(alertmanager_url) == []
    result = run(sim, backend, False, now)
    assert result.status is ToolStatus.SUCCEEDED
    [created] = silences(alertmanager_url)
    assert created["id"] == result.details["silence_id"]
    assert {(m["name"], m["value"], m["isEqual"]) for m in created["matchers"]} == {
        ("alertname", "RecommenderLatencyHigh", True),
        ("service", "recommender", True),
    }
    assert created["createdBy"] == "medic for U1" and "proposal p-123" in created["comment"]
    assert created["status"]["state"] == "active"
    assert result.details["ends_at"][:16] == created["endsAt"][:16]


class LostAnswer(httpx.BaseTransport):
    """Forwards to Alertmanager but, for the first POST, drops the answer: the silence exists, the
    caller sees a timeout."""

    def __init__(self, url: str) -> None:
        self._inner = httpx.HTTPTransport()
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.method == "POST":
            self.posts += 1
            if self.posts == 1:
                response.read()
                raise httpx.ReadTimeout("answer lost", request=request)
        return response


def test_a_lost_answer_does_not_create_a_second_silence(
    alertmanager_url: str,  # noqa: F811
    sim: SimulatedCluster,
) -> None:
    import time

    transport = LostAnswer(alertmanager_url)
    backend = AlertmanagerSilences(
        httpx.Client(base_url=alertmanager_url, transport=transport),
        retry=RetryPolicy(initial_seconds=0.01, sleep=lambda _s: None),
    )
    result = run(sim, backend, False, time.time())
    assert result.status is ToolStatus.SUCCEEDED
    assert transport.posts == 1
    assert [s["id"] for s in silences(alertmanager_url)] == [result.details["silence_id"]]


def test_a_rejected_silence_is_not_retried(
    alertmanager_url: str,  # noqa: F811
    sim: SimulatedCluster,
) -> None:
    import pytest

    from tools.errors import InvalidRequestError

    calls: list[str] = []

    def hook(request: httpx.Request) -> None:
        calls.append(request.method)

    backend = AlertmanagerSilences(
        httpx.Client(base_url=alertmanager_url, event_hooks={"request": [hook]}),
        retry=RetryPolicy(sleep=lambda _s: None),
    )
    backwards = SilenceRequest(
        matchers={"alertname": "X"},
        starts_at="2027-01-01T01:00:00Z",
        ends_at="2027-01-01T00:00:00Z",
        created_by="medic",
        comment="ends before it starts",
    )
    with pytest.raises(InvalidRequestError, match="Alertmanager answered 400"):
        backend.silence(backwards)
    assert calls == ["POST"]
