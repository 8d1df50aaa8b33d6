"""End to end with a real Alertmanager: an alert posted to its API reaches `POST /alertmanager`
through its webhook receiver (with a bearer token) and becomes a thread with a diagnosis."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.bot.slack.harness import Medic
from tests.services.alertmanager import running_alertmanager
from tools.clock import VirtualClock

TOKEN = "am-webhook-token"


@pytest.fixture
def clock() -> VirtualClock:
    """Real time: Alertmanager refuses alerts that start in the future."""
    return VirtualClock(time.time())


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.mark.slow
def test_an_alert_in_alertmanager_becomes_a_thread(
    start_medic: Callable[..., Medic], tmp_path: Path
) -> None:
    medic = start_medic(fronted=True, MEDIC_WEBHOOK__TOKEN=TOKEN)  # as `medic serve` runs
    config = {
        "route": {
            "receiver": "medic",
            "group_by": ["alertname", "service"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "medic",
                "webhook_configs": [
                    {
                        "url": f"{medic.url}/alertmanager",
                        "send_resolved": True,
                        "http_config": {"authorization": {"credentials": TOKEN}},
                    }
                ],
            }
        ],
    }
    scenario = medic.sim.scenario
    starts = datetime.fromtimestamp(medic.sim.anchor + scenario.alert_offset, UTC)
    with running_alertmanager(tmp_path, config) as alertmanager:
        alertmanager.post_alerts(
            [
                {
                    "labels": dict(scenario.alert_labels),
                    "annotations": dict(scenario.alert_annotations),
                    "startsAt": starts.isoformat(),
                }
            ]
        )
        wait_for(lambda: bool(medic.slack.roots()))
        medic.settle()

    root = medic.root()
    assert "[FIRING:1] RecommenderLatencyHigh" in root.all_text()
    assert alertmanager.url in root.all_text()  # the root links back to Alertmanager
    thread = medic.service.threads.store.thread(
        '{}:{alertname="RecommenderLatencyHigh", service="recommender"}'
    )
    assert thread is not None  # Alertmanager's own groupKey names the thread
    diagnosis = medic.diagnosis(root)
    assert "Input size increase" in diagnosis.all_text() and diagnosis.buttons()
