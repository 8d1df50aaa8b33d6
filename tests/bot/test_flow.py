"""The flow below the CLI: partial fixes are verified honestly and remembered as not resolved."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.alerts import parse_alerts
from bot.config import Settings, load_settings
from bot.demo import scenario_alert
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.sim import SimulatedCluster


def slack_settings(tmp_path: Path) -> Settings:
    """The default policy, plus Slack approvers: U1 by id and anyone in the user group S-SRE."""
    policy = yaml.safe_load(
        (Path(__file__).parents[2] / "tools" / "default_policy.yaml").read_text()
    )
    policy["approvers"].append({"users": ["U1"], "groups": ["S-SRE"]})
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return load_settings(data_dir=tmp_path / "d", policy=path)


def test_purge_alone_does_not_recover_latency_and_is_remembered_as_such(
    tmp_path: Path, sim: SimulatedCluster, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    flow = build_sim_flow(slack_settings(tmp_path), sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    investigation = flow.investigate(incident)
    proposals = {p.action.tool: p for p in flow.propose(incident, investigation)}
    outcome = flow.decide(
        proposals["purge_cache"].id, "U1", approve=True, digest=proposals["purge_cache"].digest
    )
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
    flow = build_sim_flow(slack_settings(tmp_path), sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    scale = next(
        p for p in flow.propose(incident, flow.investigate(incident)) if p.action.tool == "scale"
    )
    outsider = flow.decide(scale.id, "U3", approve=True, digest=scale.digest)
    first = flow.decide(scale.id, "U2", approve=True, digest=scale.digest, groups=["S-SRE"])
    second = flow.decide(scale.id, "U1", approve=True, digest=scale.digest)
    assert not outsider.result.ok and "you (U3) may not approve scale" in outsider.result.summary
    assert first.result.ok
    assert not second.result.ok and second.result.summary.startswith("already executed by U2 at ")
    assert sim.get_deployment("shop", "recommender").replicas == 6
