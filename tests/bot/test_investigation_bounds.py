"""Bounded work whatever an alert says: its times are checked at the door (the webhook answers 200
or 400, never more), and what passes is investigated over a bounded window, with at most
``metrics.max_points`` points per series, ``investigation.max_log_lines`` log lines and a time
budget; memory stays that of an ordinary investigation (measured in a subprocess)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from bot.alerts import parse_alerts
from bot.cli.app import app
from bot.config import load_settings
from bot.diagnosis.budget import Budget, OutOfTimeError, StoppedError
from bot.flow import IncidentFlow
from bot.incidents import Incident
from bot.slack.inbox import AlertInbox, inbox_engine
from bot.slack.metrics import WebhookMetrics
from bot.slack.webhook import AlertmanagerWebhook
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tests.conftest import START
from tests.services.capped import capped
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

pytestmark = pytest.mark.slow

LABELS = {"alertname": "RecommenderLatencyHigh", "service": "recommender", "namespace": "shop"}
DAY = 86400.0


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedding) -> IncidentFlow:
    clock = VirtualClock(START)
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("bounds"), investigation={"max_log_lines": 1000}
    )
    return build_sim_flow(
        settings, SimulatedCluster(SCENARIOS["input-size-surge"], clock), clock, embedder
    )


def incident(starts_at: float) -> Incident:
    return Incident("INC-9999", "f", "g", "RecommenderLatencyHigh", "recommender", "shop",
                    "open", starts_at, START, None, LABELS, {})  # fmt: skip


def test_an_alert_firing_for_days_is_investigated_over_the_most_recent_window(
    flow: IncidentFlow,
) -> None:
    investigation = flow.investigate(incident(START - 2 * DAY))
    window = investigation.window
    assert window.end - window.baseline_start == 360 * 60  # investigation.max_window_minutes
    assert window.split - window.baseline_start == 60 * 60  # still a one-hour baseline
    assert any("the alert began 2 days ago" in n and "most recent 6 h" in n
               for n in investigation.notes)  # fmt: skip
    assert max(len(s) for s in investigation.series) <= 720  # metrics.max_points
    assert any("log lines (investigation.max_log_lines)" in n for n in investigation.notes)


@pytest.mark.parametrize(
    ("starts_at", "age"), [(12345.0, "20,833 days"), (-62135596800.0, "739,995 days")]
)
def test_an_incident_stored_from_1970_or_year_1_gets_the_most_recent_window(
    flow: IncidentFlow, starts_at: float, age: str
) -> None:
    """What an older Medic let in (and resumed after every restart) is bounded all the same."""
    window = flow.investigator.window_for(incident(starts_at))
    assert (window.baseline_start, window.end) == (START - 360 * 60, START)
    assert f"the alert began {age} ago" in window.note


def test_an_alert_ahead_of_the_clock_is_investigated_up_to_now(flow: IncidentFlow) -> None:
    window = flow.investigator.window_for(incident(START + 3 * 3600))
    assert window.end == START + 60 and window.split == START - 15 * 60
    assert "3 h ahead of Medic's clock" in window.note


def test_a_spent_budget_stops_the_investigation_between_stages(flow: IncidentFlow) -> None:
    with pytest.raises(OutOfTimeError, match=r"budget \(investigation.timeout_seconds\) before "
                       "reading the metrics"):  # fmt: skip
        flow.investigate(incident(START - 600), Budget(0.0))
    stop = threading.Event()
    stop.set()
    with pytest.raises(StoppedError, match="resumes at the next start"):
        flow.investigate(incident(START - 600), Budget(60.0, stop))


# --- any time an alert can carry ----------------------------------------------------------------

ZONES = st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m)))
ODD_ZONES = st.integers(-86399, 86399).map(lambda s: timezone(timedelta(seconds=s)))
AROUND_NOW = st.datetimes(
    min_value=datetime(1999, 6, 1), max_value=datetime(2028, 6, 1), timezones=ZONES
).map(datetime.isoformat)  # about the limits and Medic's clock (2027-01-15), ahead and behind
TIMES = st.one_of(
    AROUND_NOW,
    st.datetimes(timezones=ZONES | ODD_ZONES).map(datetime.isoformat),  # any year
    st.datetimes().map(datetime.isoformat),  # no timezone
    st.integers(),
    st.floats(),  # NaN and infinities too: Python's JSON writes and reads them
    st.text(max_size=40),
    st.none(),
    st.booleans(),
)
SERIAL = itertools.count()


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> AlertmanagerWebhook:
    inbox = AlertInbox(inbox_engine(tmp_path_factory.mktemp("inbox")))
    return AlertmanagerWebhook(
        inbox, WebhookMetrics(CollectorRegistry()), token=None, max_body_bytes=1 << 20
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    starts_at=st.one_of(AROUND_NOW, TIMES),
    ends_at=st.one_of(st.just("absent"), st.just("0001-01-01T00:00:00Z"), TIMES),
)
def test_any_alert_time_gets_200_or_400_and_bounded_work(
    flow: IncidentFlow, webhook: AlertmanagerWebhook, starts_at: Any, ends_at: Any
) -> None:
    alert = {"status": "firing", "labels": LABELS, "startsAt": starts_at,
             "fingerprint": f"fp-{next(SERIAL)}"}  # fmt: skip
    if ends_at != "absent":
        alert["endsAt"] = ends_at
    body = json.dumps({"version": "4", "groupKey": "g", "alerts": [alert]}).encode()
    answer = webhook.handle(None, body)
    assert answer.status in (200, 400), answer
    event(f"HTTP {answer.status}")
    if answer.status == 400:
        assert "alerts.0." in answer.body["error"]
        return
    [(opened, _)] = flow.intake(parse_alerts(body))
    window = flow.investigator.window_for(opened)
    assert window.baseline_start < window.split < window.end <= START + 60
    assert window.end - window.baseline_start <= 360 * 60
    series = flow.metrics.fetch("shop", "recommender", window.baseline_start, window.end)
    assert all(len(s) <= 720 for s in series)


# --- memory, measured in a subprocess -----------------------------------------------------------

ADDRESS_SPACE = 3 * 1024**3  # each run's cap: a runaway allocation fails, not the shared host


def investigate_in_subprocess(
    tmp_path: Path, name: str, starts_at: datetime
) -> subprocess.Popen[bytes]:
    """`medic investigate --alert` of an alert that began at ``starts_at``, its address space
    capped; its output in ``name``.out and ``name``.err."""
    alert = tmp_path / f"{name}.json"
    alert.write_text(json.dumps({"version": "4", "alerts": [
        {"status": "firing", "labels": LABELS, "startsAt": starts_at.isoformat()}
    ]}))  # fmt: skip
    medic = str(Path(sys.executable).with_name("medic"))
    argv = [medic, "investigate", "--alert", str(alert), "--cluster", "sim", "--json"]
    return subprocess.Popen(
        capped(argv, ADDRESS_SPACE),
        env={**os.environ, "MEDIC_DATA_DIR": str(tmp_path / name)},
        stdout=(tmp_path / f"{name}.out").open("w"),
        stderr=(tmp_path / f"{name}.err").open("w"),
    )


def finished(process: subprocess.Popen[bytes], tmp_path: Path, name: str) -> tuple[int, float, Any]:
    """Exit code, peak RSS in MiB, and the JSON summary (stderr when it failed)."""
    _, status, usage = os.wait4(process.pid, 0)
    code = process.returncode = os.waitstatus_to_exitcode(status)
    out, err = (tmp_path / f"{name}.out").read_text(), (tmp_path / f"{name}.err").read_text()
    return code, usage.ru_maxrss / 1024, json.loads(out.splitlines()[-1]) if code == 0 else err


def test_an_alert_from_2000_costs_the_memory_of_a_fresh_one(tmp_path: Path) -> None:
    """The investigation of an alert that began in 2000 (accepted: a real, if absurd, time)
    runs under a 3 GiB address-space cap and peaks at the RSS of one that began five minutes
    ago, measured in the same run (before the bounds it read 26 years of metrics at 15 s and
    died allocating them)."""
    now = datetime.now(UTC)
    fresh = investigate_in_subprocess(tmp_path, "fresh", now - timedelta(minutes=5))
    ancient = investigate_in_subprocess(tmp_path, "ancient", datetime(2000, 1, 2, tzinfo=UTC))
    fresh_code, fresh_rss, fresh_summary = finished(fresh, tmp_path, "fresh")
    code, rss, summary = finished(ancient, tmp_path, "ancient")
    assert fresh_code == 0, fresh_summary
    assert code == 0, summary
    assert any("most recent 6 h" in note for note in summary["notes"])
    assert rss <= fresh_rss + 100, (rss, fresh_rss)


def test_medic_investigate_refuses_an_alert_from_1970_in_one_line(tmp_path: Path) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps({"alerts": [{"status": "firing", "labels": LABELS,
                                             "startsAt": 12345}]}))  # fmt: skip
    result = CliRunner().invoke(app, ["investigate", "--alert", str(alert), "--cluster", "sim"])
    assert result.exit_code == 2
    assert result.stderr == (
        "medic: malformed alert: alerts.0.startsAt: 1970-01-01T03:25:45+00:00 is before "
        "2000-01-01: not a real alert time (an unset or zero time, or a number in the wrong "
        "unit?)\n"
    )
    assert not Path(os.environ["MEDIC_DATA_DIR"]).exists()  # nothing written
