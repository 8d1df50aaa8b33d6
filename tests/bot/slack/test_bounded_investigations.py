"""Bounded investigations, as the channel sees them: an alert whose time no real alert has is
refused at the webhook; a source that is down or slow costs the investigation that source, not
the diagnosis (the thread says what was missing); an investigation over its budget, or one that
breaks inside, fails in words a person understands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.diagnosis.budget import Budget
from bot.diagnosis.investigation import Investigation
from bot.incidents import Incident
from tests.bot.slack.harness import APPROVER, Medic
from tests.services.binaries import free_port
from tests.services.chroma import chroma_server
from tests.services.stalling import stalling_server

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("starts_at", [12345, "0001-01-01T00:00:00Z"])
def test_an_alert_from_1970_or_year_1_is_refused_naming_the_field(
    medic: Medic, starts_at: object
) -> None:
    payload = medic.demo_alert()
    payload["alerts"][0]["startsAt"] = starts_at
    answer = medic.alert(payload)
    assert answer.status_code == 400
    assert "alerts.0.startsAt" in answer.json()["error"] and "before 2000-01-01" in answer.text
    medic.settle()
    assert medic.slack.calls == [] and medic.service.intake.pending() == 0


def diagnosis_notes(medic: Medic) -> str:
    medic.alert(medic.demo_alert())
    medic.settle()
    return medic.diagnosis(medic.root()).all_text()


@pytest.mark.parametrize("fault", ["down", "silent", "trickle"])
def test_prometheus_down_or_slow_costs_the_metrics_not_the_diagnosis(
    start_medic: Callable[..., Medic], fault: str
) -> None:
    """Down: connection refused. Silent: no answer within metrics.timeout_seconds. Trickle: an
    answer a byte at a time, each read in time, never done: only the investigation's budget
    ends it (half of it at most, so the logs and the memory still get their turn). A budget of
    15 s: with 10, the half left after the metrics ran out before the memory search on a
    loaded machine (a benchmark ran beside a clean-clone CI run here)."""
    limits = {"MEDIC_METRICS__SOURCE": "prometheus", "MEDIC_METRICS__TIMEOUT_SECONDS": "2",
              "MEDIC_INVESTIGATION__TIMEOUT_SECONDS": "15"}  # fmt: skip
    if fault == "down":
        url = f"http://127.0.0.1:{free_port()}"
        text = diagnosis_notes(start_medic(MEDIC_METRICS__PROMETHEUS_URL=url, **limits))
        assert f"Prometheus at {url} is unreachable (ConnectError" in text
    else:
        with stalling_server(fault) as (url, arrived):  # type: ignore[arg-type]
            text = diagnosis_notes(start_medic(MEDIC_METRICS__PROMETHEUS_URL=url, **limits))
            assert arrived.is_set()
        assert "metrics unavailable, continuing without them" in text
        assert ("ReadTimeout" if fault == "silent" else "no time left to read") in text
    assert "No metric left its normal band" in text
    assert "logs unavailable" not in text and "No new or surging log templates" not in text


def test_the_chroma_server_down_costs_the_memory_not_the_diagnosis(
    start_medic: Callable[..., Medic], tmp_path: Path
) -> None:
    """Down before the alert: the diagnosis comes without similar incidents; still down when the
    approved fix is verified: the thread says the incident is not remembered, and it is resolved
    all the same."""
    with chroma_server(tmp_path / "chroma") as url:
        medic = start_medic(MEDIC_CHROMA_URL=url)
    text = diagnosis_notes(medic)  # the server is gone
    assert "incident memory unavailable: the vector store did not answer (ConnectError" in text
    assert "Input size increase" in text  # metrics and logs still diagnose it
    diagnosis = medic.diagnosis(medic.root())
    for change in ("replicas", "purge"):  # the demo's fix: scale out and purge the cache
        medic.click(diagnosis, diagnosis.button("medic_approve", change), APPROVER)
    medic.settle()
    said = [m.text for m in medic.slack.thread(medic.root().ts)]
    assert any(t.startswith("Verification") for t in said), said
    assert any(t.startswith("INC-0001 is not remembered: the vector store did not answer") and
               "in its timeline and the audit log" in t for t in said), said  # fmt: skip
    incident = medic.service.threads.flow.incidents.get("INC-0001")
    assert incident is not None and incident.status == "resolved"


def failure_message(medic: Medic) -> str:
    medic.alert(medic.demo_alert())
    medic.settle()
    [note] = medic.slack.thread(medic.root().ts)
    return note.text


def test_an_investigation_over_its_budget_says_so(start_medic: Callable[..., Medic]) -> None:
    medic = start_medic(MEDIC_INVESTIGATION__TIMEOUT_SECONDS="0.000001")
    assert failure_message(medic) == (
        "The investigation of INC-0001 failed: it ran out of its 1e-06 s budget "
        "(investigation.timeout_seconds) before reading the metrics. Try again with "
        "`/medic investigate recommender shop`."
    )


def test_an_internal_error_is_logged_not_shown(
    medic: Medic, caplog: pytest.LogCaptureFixture
) -> None:
    """What the old code posted for an alert from year 1, now only in the log."""
    numpy_says = "Unable to allocate 31.8 GiB for an array with shape (4268000000,)"

    def broken(incident: Incident, budget: Budget | None = None) -> Investigation:
        raise MemoryError(numpy_says)

    medic.service.threads.flow.investigate = broken  # type: ignore[method-assign]
    text = failure_message(medic)
    assert "failed: an internal error (the details are in Medic's log)" in text
    assert "allocate" not in text and "GiB" not in text
    assert numpy_says in caplog.text
