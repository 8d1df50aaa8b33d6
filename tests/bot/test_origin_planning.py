"""Proposals on the origin: when frontend pages because a service it calls went wrong, Medic
proposes the remedy on that service - through the guard, with that workload's policy - and tells
frontend's responders why acting on frontend would not help. When frontend is the origin, it plans
on frontend as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.diagnosis.stored import from_json, to_json
from bot.flow import Diagnosed, IncidentFlow
from bot.incidents import Incident
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.sim import SimulatedCluster
from tools.sim.victims import VICTIMS

pytestmark = pytest.mark.slow

BY_NAME = {s.name: s for s in VICTIMS}


def diagnosed(
    name: str, tmp_path: Path, embedder: MiniLMEmbedding, policy: Path | None = None
) -> tuple[IncidentFlow, SimulatedCluster, Incident, Diagnosed]:
    clock = VirtualClock(1_800_000_000.0)
    sim = SimulatedCluster(BY_NAME[name], clock)
    settings = load_settings(data_dir=tmp_path / "d", policy=policy)
    flow = build_sim_flow(settings, sim, clock, embedder)
    incident = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0][0]
    return flow, sim, incident, flow.diagnose(incident)


@pytest.mark.parametrize(
    ("name", "tool", "workload"),
    [
        ("slow-dependency", "restart", "checkout"),
        ("saturated-upstream", "scale", "checkout"),
        ("dependency-bad-rollout", "rollback", "checkout"),
        ("cascading-failure", "rollback", "payments"),
    ],
)
def test_a_victims_alert_gets_the_remedy_on_the_origin_and_advice_for_itself(
    name: str, tool: str, workload: str, tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    _, _, incident, (diagnosis, proposals) = diagnosed(name, tmp_path, embedder)
    assert incident.service == "frontend"
    first = proposals[0]
    assert (first.action.tool, first.action.target) == (tool, f"shop/{workload}")
    assert first.status is ProposalStatus.PROPOSED
    assert all(p.action.name != "frontend" for p in proposals)  # no pointless restart there
    assert diagnosis.plan.advice[0] == (
        f"frontend is affected downstream of {workload}: acting on frontend would not help, so "
        f"remedies are proposed on {workload}"
    )
    look = diagnosis.investigation.at_origin
    assert look is not None and look.service == workload and look.findings
    assert diagnosis.investigation.hypotheses[0].cause == "dependency-timeout"


def test_approving_the_origins_remedy_acts_on_the_origin_and_the_audit_names_it(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    flow, sim, incident, (diagnosis, proposals) = diagnosed(
        "dependency-bad-rollout", tmp_path, embedder
    )
    before = {n: sim.get_deployment("shop", n).revision for n in ("checkout", "frontend")}
    rollback = proposals[0]
    outcome = flow.decide(rollback.id, "cli:alice", approve=True, digest=rollback.digest)
    assert outcome is not None and outcome.result.ok, outcome
    assert sim.get_deployment("shop", "checkout").revision != before["checkout"]
    assert sim.get_deployment("shop", "frontend").revision == before["frontend"]
    executed = [e for e in flow.workflow.audit.entries() if e.proposal_id == rollback.id]
    assert executed and {e.target for e in executed} == {"shop/checkout"}
    investigation = diagnosis.investigation
    record = flow.remember(incident, investigation, flow.verify(incident, investigation))
    assert record is not None and record.service == "frontend"
    assert [(r.tool, r.workload) for r in record.remediation] == [("rollback", "checkout")]


def test_a_policy_that_forbids_the_origin_refuses_its_remedy_naming_the_rule(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "environments:\n"
        "  production: {namespaces: [shop], tools: [scale, restart, rollback]}\n"
        "workloads:\n"
        "  shop: [recommender, frontend, payments]\n"
        "approvers:\n"
        "  - users: ['cli:*']\n"
    )
    flow, _, _, (_, proposals) = diagnosed("dependency-bad-rollout", tmp_path, embedder, policy)
    on_checkout = [p for p in proposals if p.action.name == "checkout"]
    assert on_checkout and all(p.status is ProposalStatus.REFUSED for p in on_checkout)
    assert "checkout is not among the workloads" in on_checkout[0].outcome
    refused = flow.decide(
        on_checkout[0].id, "cli:alice", approve=True, digest=on_checkout[0].digest
    )
    assert refused is not None and not refused.result.ok
    assert all(p.action.name != "frontend" for p in proposals)  # still no remedy on the victim


def test_when_the_alerting_service_is_the_origin_it_is_planned_on_as_before(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    _, _, _, (diagnosis, proposals) = diagnosed("frontend-own-regression", tmp_path, embedder)
    assert (proposals[0].action.tool, proposals[0].action.target) == ("rollback", "shop/frontend")
    assert diagnosis.investigation.at_origin is None
    assert not any("downstream" in a for a in diagnosis.plan.advice)


def test_the_look_at_the_origin_is_kept_with_the_diagnosis(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    _, _, _, (diagnosis, _) = diagnosed("cascading-failure", tmp_path, embedder)
    kept = from_json(to_json(diagnosis)).investigation.at_origin
    assert kept is not None and kept.service == "payments"
    assert [h.cause for h in kept.hypotheses][:1] == ["bad-rollout"]
    assert [c.revision for c in kept.changes] == [
        c.revision
        for c in diagnosis.investigation.at_origin.changes  # type: ignore[union-attr]
    ]
