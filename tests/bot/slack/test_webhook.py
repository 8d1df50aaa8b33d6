"""`POST /alertmanager`: Alertmanager's grouping becomes Slack threads; bad requests are refused
with their reason; health and metrics. The bot runs as `medic serve` runs it: the webhook in its
front process, everything else passed on to the bot."""

from __future__ import annotations

import copy
import os
import signal
import time
from collections.abc import Callable

import pytest

from tests.bot.slack.harness import Medic


@pytest.fixture
def medic(start_medic: Callable[..., Medic]) -> Medic:
    return start_medic(fronted=True)


def with_second_alert(payload: dict[str, object]) -> dict[str, object]:
    """The next notification of the same group: one more alert (another pod) firing."""
    later = copy.deepcopy(payload)
    alerts = later["alerts"]
    assert isinstance(alerts, list)
    second = copy.deepcopy(alerts[0])
    second["labels"]["pod"] = "recommender-2"
    second["fingerprint"] = "second"
    alerts.append(second)
    return later


def resolved(payload: dict[str, object]) -> dict[str, object]:
    done = copy.deepcopy(payload)
    done["status"] = "resolved"
    for alert in done["alerts"]:  # type: ignore[union-attr]
        alert["status"] = "resolved"
    return done


def test_one_group_is_one_thread_whose_root_follows_the_group(medic: Medic) -> None:
    first = medic.demo_alert()
    assert medic.alert(first).status_code == 200
    medic.settle()
    assert medic.alert(with_second_alert(first)).json() == {"queued": 2, "alerts": 2}
    medic.settle()

    root = medic.root()  # still one thread
    assert "[FIRING:2] RecommenderLatencyHigh" in root.all_text()
    assert "2 firing, 0 resolved" in root.all_text() and root.updates == 1
    assert "INC-0001, INC-0002" in root.all_text()
    medic.diagnosis(root)  # one diagnosis: the second alert joined the first's investigation


def test_resolved_group_updates_the_root_and_withdraws_pending_proposals(medic: Medic) -> None:
    payload = medic.demo_alert()
    medic.alert(payload)
    medic.settle()
    assert medic.alert(resolved(payload)).status_code == 200
    medic.settle()

    root = medic.root()
    assert "[RESOLVED] RecommenderLatencyHigh" in root.all_text()
    diagnosis = medic.diagnosis(root)
    assert diagnosis.buttons() == []
    assert "Withdrawn: the alert resolved before anyone decided" in diagnosis.all_text()
    notes = [m.all_text() for m in medic.slack.thread(root.ts)]
    assert any("pending proposal(s) withdrawn" in n for n in notes)
    assert medic.service.threads.flow.incidents.get("INC-0001").status == "resolved"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed alert: not JSON"),
        (b'{"version": "4", "alerts": []}', "malformed alert: alerts"),
        (b'{"version": "3", "alerts": [{"status": "firing", "labels": {"service": "recommender"},'
         b' "startsAt": "2026-01-01T00:00:00Z"}]}', "unsupported webhook version '3'"),
        (b'{"alerts": [{"status": "firing", "labels": {"alertname": "X"},'
         b' "startsAt": "2026-01-01T00:00:00Z"}]}', "has no service label"),
    ],
)  # fmt: skip
def test_malformed_payloads_get_400_with_the_reason(medic: Medic, body: bytes, reason: str) -> None:
    answer = medic.http.post(f"{medic.url}/alertmanager", content=body)
    assert answer.status_code == 400 and reason in answer.json()["error"]
    assert medic.slack.calls == []


def test_an_alert_for_an_unknown_service_is_reported_in_its_thread(medic: Medic) -> None:
    payload = medic.demo_alert()
    payload["alerts"][0]["labels"]["service"] = "payments"
    assert medic.alert(payload).status_code == 200
    medic.settle()
    (notice,) = medic.slack.thread(medic.root().ts)
    assert "unknown service: no deployment 'payments'" in notice.all_text()


def test_an_accepted_notification_survives_a_stop(start_medic: Callable[..., Medic]) -> None:
    first = start_medic(fronted=True)
    first.service.intake.stop()  # the bot stops right after answering Alertmanager
    assert first.alert(first.demo_alert()).status_code == 200
    first.service.stop()
    second = start_medic(fronted=True)  # same data directory
    second.settle()
    assert "[FIRING:1] RecommenderLatencyHigh" in second.root().all_text()
    second.diagnosis(second.root())


def test_the_front_process_is_started_again_should_it_die(medic: Medic) -> None:
    assert medic.front is not None and medic.front.pid is not None
    killed = medic.front.pid
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while medic.front.pid == killed:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # Alertmanager's next notification waits in the port's queue until the front is back.
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    medic.diagnosis(medic.root())


def test_bearer_token_and_size_limit(start_medic: Callable[..., Medic]) -> None:
    medic = start_medic(
        fronted=True, MEDIC_WEBHOOK__TOKEN="s3cret", MEDIC_WEBHOOK__MAX_BODY_BYTES="4000"
    )
    payload = medic.demo_alert()
    assert medic.alert(payload).status_code == 401
    assert medic.alert(payload, token="wrong").status_code == 401
    huge = medic.demo_alert(commonAnnotations={"description": "x" * 5000})
    assert medic.alert(huge, token="s3cret").status_code == 413
    assert medic.alert(payload, token="s3cret").status_code == 200


def test_health_and_metrics(medic: Medic) -> None:
    medic.alert(medic.demo_alert())
    medic.settle()
    health = medic.http.get(f"{medic.url}/healthz").json()
    assert health == {
        "status": "ok",
        "state": {"ok": True},
        "slack": "http",
        "inbox": {"pending": 0},
        "outbox": {"pending": 0, "dead": 0},
    }
    metrics = medic.http.get(f"{medic.url}/metrics").text
    assert 'medic_alerts_received_total{source="alertmanager"} 1.0' in metrics
    assert 'medic_investigations_total{result="ok"} 1.0' in metrics
    assert 'medic_proposals_total{status="proposed"}' in metrics
    assert "medic_alert_to_diagnosis_seconds_count 1.0" in metrics
    assert "medic_intake_seconds_count 1.0" in metrics  # the front process's own
    assert medic.http.get(f"{medic.url}/nowhere").status_code == 404
    assert medic.http.get(f"{medic.url}/alertmanager").status_code == 405
