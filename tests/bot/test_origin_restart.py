"""The origin ranking keeps each service's yardstick across a restart: a first process
investigates a namespace where ``batch`` fails in every window (a job that always fails), and
exits; after the restart, ``ledger`` starts failing less loudly, and the new process still ranks
batch against its own past - so the thread names ledger, not batch. A state database that is
down is one note, and the services are ranked against each other."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine

from bot import messages
from bot.alerts import parse_alerts
from bot.config import InvestigationSettings, Settings
from bot.database import state_engine
from bot.demo import scenario_alert
from bot.diagnosis.budget import Budget
from bot.diagnosis.origin_store import StoredHistory
from bot.diagnosis.origins import OriginFinder, Origins
from bot.wiring import build_sim_flow, embedding_model
from detectors import InMemoryMetricSource, Series
from knowledge import TemplateMiner
from tests.bot.test_origin_log_budget import BUSY, WINDOW, MinuteLogs, steady
from tests.bot.test_origin_log_budget import Namespace as Workloads
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

NAMES = ["front", "batch", "ledger", "mail", "cart"]
ROOT = Path(__file__).resolve().parents[2]


def metrics(namespace: str, service: str, start: float, end: float) -> list[Series]:
    """Flat CPU with the same noise in every process (``hash`` of a name is not)."""
    ts = np.arange(start, end, 60.0)
    rng = np.random.default_rng(zlib.crc32(service.encode()))
    cpu = 30.0 + rng.normal(0.0, 1.0, len(ts))
    if service in BUSY:
        cpu[ts >= WINDOW.split] += 25.0
    return [Series.of("cpu_utilization_pct", ts, cpu)]


def always_failing_batch(service: str, minute: float) -> list[str]:
    lines = steady(service, minute)
    if service == "batch" and minute >= WINDOW.split:
        lines += ["ERROR job export failed: disk quota"] * 12
    return lines


def ledger_failing_too(service: str, minute: float) -> list[str]:
    lines = always_failing_batch(service, minute)
    if service == "ledger" and minute >= WINDOW.split:
        lines += ["ERROR NullPointerException in Ledger.post"] * 3
    return lines


def investigate(data: Path, logs: MinuteLogs, notes: list[str] | None = None) -> Origins:
    """One investigation of ``shop`` by a flow over the state database in ``data``."""
    engine = state_engine(data)
    finder = OriginFinder(
        metrics=InMemoryMetricSource(metrics),
        logs=logs,
        directories=[Workloads(NAMES)],
        graphs=[],
        settings=InvestigationSettings(log_seconds=60.0),
        history=StoredHistory(engine, keep=30, now=lambda: WINDOW.end),
    )
    try:
        return finder.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), notes or [])
    finally:
        engine.dispose()


def earlier_investigations(data: str) -> None:
    """The first process: three investigations with batch failing as always."""
    for _ in range(3):
        investigate(Path(data), MinuteLogs(always_failing_batch))


def test_after_a_restart_the_origin_is_still_ranked_against_the_namespaces_past(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    code = (
        f"from tests.bot.test_origin_restart import earlier_investigations as e; e({str(data)!r})"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=120,
    )
    origins = investigate(data, MinuteLogs(ledger_failing_too))  # this process: after the restart
    assert origins.ranked[0].service == "ledger"

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    alone = investigate(fresh, MinuteLogs(ledger_failing_too))
    assert alone.ranked[0].service == "batch"  # without a past, the loudest errors lead


def test_a_state_database_that_is_down_is_one_note_and_the_ranking_goes_on() -> None:
    down = create_engine("postgresql+psycopg://medic@127.0.0.1:9/medic")
    finder = OriginFinder(
        metrics=InMemoryMetricSource(metrics),
        logs=MinuteLogs(ledger_failing_too),
        directories=[Workloads(NAMES)],
        graphs=[],
        settings=InvestigationSettings(log_seconds=60.0),
        history=StoredHistory(down, keep=30, now=lambda: WINDOW.end),
    )
    notes: list[str] = []
    origins = finder.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), notes)
    assert origins.ranked[0].service == "batch"  # ranked against its peers, as a first time
    assert len(notes) == 1
    assert notes[0].startswith(messages.ORIGIN_HISTORY_UNREAD.split("{")[0])
    assert "cannot be reached" in notes[0]


@pytest.mark.slow
def test_the_flow_keeps_the_ranked_evidence_in_its_state_database(tmp_path: Path) -> None:
    """The wiring gives the flow the database's history: what an investigation ranked is there
    for the next process built over the same data directory."""
    scenario = SCENARIOS["slow-dependency"]
    clock = VirtualClock(1_800_000_000.0)
    sim = SimulatedCluster(scenario, clock)
    settings = Settings(data_dir=tmp_path)
    flow = build_sim_flow(settings, sim, clock, embedding_model())
    incident, _ = flow.intake(parse_alerts(scenario_alert(scenario, sim.anchor)))[0]
    diagnosis, _ = flow.diagnose(incident)
    ranked = {o.service for o in diagnosis.investigation.origins.ranked}
    assert "checkout" in ranked

    engine = state_engine(tmp_path)  # the next process
    (kept,) = StoredHistory(engine, keep=30, now=clock.now).past(scenario.namespace)
    assert set(kept) == ranked
