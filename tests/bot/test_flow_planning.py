"""Planning inside the whole flow: injected log lines change nothing but are flagged, corrections
teach the memory planner, and rollouts show up as "what changed"."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import LLMSettings, load_settings
from bot.demo import scenario_alert
from bot.flow import IncidentFlow
from bot.incidents import Incident
from bot.llm.model import bounded
from bot.planners.combine import Planner
from bot.planners.llm import LLMPlanner
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tests.bot.test_llm_planner import INJECTED, calls, scripted
from tools.clock import VirtualClock
from tools.langchain_tools import structured_tools
from tools.sim import SCENARIOS, SimulatedCluster
from tools.sim.scenarios import RECOMMENDER, LogPattern

pytestmark = pytest.mark.slow


def open_incident(flow: IncidentFlow, sim: SimulatedCluster) -> Incident:
    return flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0][0]


def test_an_injected_log_line_produces_no_proposal_even_when_the_llm_obeys_it(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    attacker = LogPattern("INFO", INJECTED, lambda c: 0.3 if c["payload"] > 1.5 else 0.0)
    profile = replace(RECOMMENDER, logs=(*RECOMMENDER.logs, attacker))
    demo = SCENARIOS["input-size-surge"]
    sim = SimulatedCluster(replace(demo, services=(profile, *demo.services[1:])), clock)
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    obedient = scripted(
        calls(("scale", {"namespace": "kube-system", "workload": "coredns", "replicas": 0}))
    )
    llm = LLMPlanner(
        bounded(obedient, LLMSettings()),
        lambda i: list(structured_tools(flow.workflow, incident_id=i)),
    )
    flow.planner = Planner([*flow.planner.planners[:-1], llm], sim, flow.workflow.guard.policy)

    incident = open_incident(flow, sim)
    diagnosis, proposals = flow.diagnose(incident)
    investigation = diagnosis.investigation
    assert any(INJECTED in t.example for t in investigation.templates.abnormal)  # type: ignore[union-attr]
    assert proposals and all(p.action.target == "shop/recommender" for p in proposals)
    assert all(p.action.name != "coredns" for p in flow.proposals.for_incident(incident.id))
    notes = " | ".join(investigation.notes)
    assert "possible prompt injection in a log line" in notes and "coredns" in notes
    assert "dropped: llm: scale on kube-system/coredns dropped" in notes


def test_a_correction_teaches_the_memory_planner_what_fixed_it(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    settings = load_settings(data_dir=tmp_path / "d")
    first_clock = VirtualClock(1_800_000_000.0)
    first_sim = SimulatedCluster(SCENARIOS["input-size-surge"], first_clock)
    flow = build_sim_flow(settings, first_sim, first_clock, embedder)
    incident = open_incident(flow, first_sim)
    investigation = flow.investigate(incident)
    for proposal in flow.propose(incident, investigation):
        flow.decide(proposal.id, "cli:alice", approve=True, digest=proposal.digest)
    flow.remember(incident, investigation, flow.verify(incident, investigation))

    assert flow.correct(incident.id, "thanks, looks good", "U1") is None
    correction = flow.correct(
        incident.id, "root cause was actually the DB pool; a rollback fixed it", "U1"
    )
    assert correction is not None
    assert (correction.cause, correction.fix) == ("connection-pool-exhaustion", "rollback")

    clock = VirtualClock(1_800_000_000.0 + 86400)
    sim = SimulatedCluster(SCENARIOS["input-size-surge"], clock)
    flow = build_sim_flow(settings, sim, clock, embedder)
    second = open_incident(flow, sim)
    investigation = flow.investigate(second)
    past = next(m for m in investigation.similar if m.record.id == incident.id)
    assert past.record.cause == "connection-pool-exhaustion"
    pool = next(h for h in investigation.hypotheses if h.cause == "connection-pool-exhaustion")
    assert any(e.kind == "memory" and incident.id in e.text for e in pool.evidence)
    plan = flow.plan(second, investigation)
    rollback = next(p for p in plan.actions if p.action.tool == "rollback")
    assert f"memory:{incident.id}" in rollback.sources
    assert any("corrected by U1" in r for r in rollback.reasons)


def test_what_changed_names_the_rollout_before_the_symptoms(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    clock = VirtualClock(1_800_000_000.0)
    sim = SimulatedCluster(SCENARIOS["latency-regression-after-rollout"], clock)
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    incident = open_incident(flow, sim)
    investigation = flow.investigate(incident)
    top = investigation.hypotheses[0]
    assert top.cause == "bad-rollout"
    assert "rollout of recommender rev 8" in top.text and "p95 latency rose" in top.text
    [proposal, *_] = flow.propose(incident, investigation)
    assert proposal.action.tool == "rollback"
    assert "what-changed:rev 8" in proposal.source
