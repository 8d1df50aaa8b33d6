"""Kubernetes Events in the diagnosis: the simulated shop's memory leak records OOMKilled and
BackOff Events, which support the memory cause and are listed under "what changed"; a shop
whose Events cannot be read gets one note and the same cause from its metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.conversation import IncidentEvidence, answer
from bot.demo import scenario_alert
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.backends import ClusterEvent
from tools.clock import VirtualClock
from tools.errors import PermissionDeniedError
from tools.sim import SCENARIOS, SimulatedCluster

pytestmark = pytest.mark.slow


class NoEvents(SimulatedCluster):
    """The shop on a cluster whose Role does not allow listing Events."""

    def recent_events(
        self, namespace: str, name: str, since: float, limit: int = 50
    ) -> list[ClusterEvent]:
        raise PermissionDeniedError('events is forbidden: cannot list resource "events"')


def test_a_memory_leaks_oomkilled_events_support_the_memory_cause(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    clock = VirtualClock(1_800_000_000.0)
    sim = SimulatedCluster(SCENARIOS["memory-leak"], clock)
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    incident = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0][0]
    inv = flow.investigate(incident)
    assert {e.reason for e in inv.events} >= {"OOMKilled", "BackOff"}
    top = inv.hypotheses[0]
    assert top.cause == "memory-leak"
    said = [e.text for e in top.evidence if e.kind == "event"]
    assert said and "OOMKilled on Pod checkout-" in said[0]
    changed = answer("@medic what changed?", IncidentEvidence(incident, inv), flow.catalog).text
    assert "Kubernetes events in the window:" in changed and "OOMKilled" in changed

    # the same shop on a cluster whose Events cannot be read: one note, the same cause from the
    # metrics, scored lower
    clock = VirtualClock(1_800_000_000.0)
    blind = NoEvents(SCENARIOS["memory-leak"], clock)
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "e"), blind, clock, embedder)
    incident = flow.intake(parse_alerts(scenario_alert(blind.scenario, blind.anchor)))[0][0]
    without = flow.investigate(incident)
    notes = [n for n in without.notes if "Kubernetes events unavailable" in n]
    assert len(notes) == 1 and "forbidden" in notes[0]
    assert without.events == []
    assert without.hypotheses[0].cause == "memory-leak"
    assert without.hypotheses[0].score < top.score
