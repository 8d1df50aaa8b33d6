"""A victim's alert in a namespace of fifty services: every service is ranked on its metrics, the
logs of every one are read (in the order the metrics rank them, within the time for logs, here
ample), and the origin is named first (``benchmarks/bench_origins.py``
times the same investigation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.sim import SimulatedCluster
from tools.sim.namespace import wide_cascade

pytestmark = pytest.mark.slow


def test_the_origin_is_found_among_fifty_services(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    scenario = wide_cascade(50)
    clock = VirtualClock(1_800_000_000.0)
    sim = SimulatedCluster(scenario, clock)
    settings = load_settings(
        data_dir=tmp_path, investigation={"baseline_minutes": 90, "log_seconds": 60}
    )
    flow = build_sim_flow(settings, sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(scenario, sim.anchor)))[0]
    origins = flow.investigate(incident).origins
    assert len(origins.ranked) == 50
    assert origins.ranked[0].service == "payments"
    assert origins.relation("payments") is not None
    assert len(origins.with_logs) == 50
    assert {"frontend", "payments"} <= origins.with_logs
