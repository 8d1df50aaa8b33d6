"""The look at the origin when a source fails half-way: checkout leads the ranking, then its
metrics cannot be read again (a Prometheus that went down between the two reads). The
investigation still ends, says which service's metrics were missing, and plans on what it has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.alerts import parse_alerts
from bot.config import Settings
from bot.demo import scenario_alert
from bot.wiring import build_sim_flow, embedding_model
from detectors import MetricSourceError
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

pytestmark = pytest.mark.slow


def test_origin_metrics_down_at_the_look_is_a_note_naming_the_origin(tmp_path: Path) -> None:
    scenario = SCENARIOS["slow-dependency"]
    clock = VirtualClock(1_800_000_000.0)
    sim = SimulatedCluster(scenario, clock)
    reads: dict[str, int] = {}
    original = sim.metrics

    def metrics(namespace: str, name: str, *args: Any, **kwargs: Any) -> Any:
        reads[name] = reads.get(name, 0) + 1
        if name == "checkout" and reads[name] > 1:  # the ranking read it; the look cannot
            raise MetricSourceError("Prometheus answered 503 Service Unavailable")
        return original(namespace, name, *args, **kwargs)

    sim.metrics = metrics  # type: ignore[method-assign]
    flow = build_sim_flow(Settings(data_dir=tmp_path), sim, clock, embedding_model())
    incident, _ = flow.intake(parse_alerts(scenario_alert(scenario, sim.anchor)))[0]
    diagnosis, _ = flow.diagnose(incident)
    investigation = diagnosis.investigation
    assert investigation.origins.ranked[0].service == "checkout"
    assert investigation.at_origin is not None
    # the thread's notes say whose metrics were missing, and why
    assert any(
        "checkout" in note and "503 Service Unavailable" in note for note in investigation.notes
    )
