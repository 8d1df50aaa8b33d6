"""The flow below the CLI: partial fixes are verified honestly and remembered as not resolved."""

from __future__ import annotations

from pathlib import Path

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.runtime import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.sim import SimulatedCluster


def test_purge_alone_does_not_recover_latency_and_is_remembered_as_such(
    tmp_path: Path, sim: SimulatedCluster, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    investigation = flow.investigate(incident)
    proposals = {p.action.tool: p for p in flow.propose(incident, investigation)}
    outcome = flow.approve(proposals["purge_cache"].id, "U1", proposals["purge_cache"].digest)
    assert outcome.result.ok and "cache keys matching recommender:*" in outcome.result.summary

    verification = flow.verify(incident, investigation)
    assert not verification.recovered
    assert any("p95 latency still at" in c.text for c in verification.checks)

    record = flow.remember(incident, investigation, verification)
    assert record is not None and record.outcome == "not_resolved"
    assert [r.tool for r in record.remediation] == ["purge_cache"]
    assert flow.incidents.get(incident.id).status == "open"  # type: ignore[union-attr]
    assert flow.proposals.get(proposals["scale"].id).status is ProposalStatus.PROPOSED  # type: ignore[union-attr]


def test_approving_twice_executes_once(
    tmp_path: Path, sim: SimulatedCluster, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    scale = next(
        p for p in flow.propose(incident, flow.investigate(incident)) if p.action.tool == "scale"
    )
    first = flow.approve(scale.id, "U1", scale.digest)
    second = flow.approve(scale.id, "U2", scale.digest)
    assert first.result.ok
    assert (
        not second.result.ok
        and "already" in second.result.summary
        and "U1" in second.result.summary
    )
    assert sim.get_deployment("shop", "recommender").replicas == 6
