"""Planning: every planner's candidates made concrete, checked, merged and ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.diagnosis.changes import Change
from bot.diagnosis.hypotheses import Evidence, Hypothesis
from bot.diagnosis.signals import Glossary
from bot.errors import ConfigError
from bot.planners.base import PlanningContext
from bot.planners.combine import Planner, load_runbooks, with_origin
from bot.planners.memory import MemoryPlanner
from bot.planners.rollback import ChangePlanner
from bot.planners.runbooks import RunbookPlanner
from detectors import Finding
from knowledge.records import IncidentRecord, Remediation, SimilarIncident
from tests.bot.test_diagnosis import finding
from tools.policy import Policy, load_policy
from tools.sim import SimulatedCluster


def similar(
    id_: str, similarity: float, outcome: str, *remedies: Remediation, cause: str = "x"
) -> SimilarIncident:
    record = IncidentRecord(
        id=id_,
        title=id_,
        service="recommender",
        root_cause=cause,
        cause=cause,
        remediation=list(remedies),
        outcome=outcome,  # type: ignore[arg-type]
    )
    return SimilarIncident(
        record=record,
        similarity=similarity,
        embedding_similarity=similarity,
        shared_templates=[],
        explanation="",
    )


def likely(cause: str, score: float = 0.9, *evidence: Evidence) -> Hypothesis:
    return Hypothesis(cause=cause, title=cause, score=score, evidence=list(evidence))


def context(
    findings: list[Finding] | None = None,
    hypotheses: list[Hypothesis] | None = None,
    matches: list[SimilarIncident] | None = None,
    changes: list[Change] | None = None,
    **extra: Any,
) -> PlanningContext:
    return PlanningContext(
        incident_id="INC-0001",
        namespace="shop",
        service=extra.pop("service", "recommender"),
        summary="recommender p95 latency above 500 ms",
        labels=extra.pop("labels", {}),
        annotations={},
        findings=findings or [],
        hypotheses=hypotheses or [],
        similar=matches or [],
        templates=extra.pop("templates", []),
        changes=changes or [],
        catalog=Glossary(),
        **extra,
    )


def planner(sim: SimulatedCluster, directory: Path | None = None, **policy: Any) -> Planner:
    rules = Policy.model_validate({**load_policy().model_dump(), **policy})
    return Planner(
        [RunbookPlanner(load_runbooks(directory)), MemoryPlanner(), ChangePlanner()], sim, rules
    )


LOAD = [
    finding("latency_p95_ms", 0),
    finding("request_payload_bytes", 0),
    finding("cache_memory_bytes", 0),
]


def test_runbooks_turn_likely_causes_into_concrete_actions(sim: SimulatedCluster) -> None:
    plan = planner(sim).plan(
        context(LOAD, [likely("input-size-surge", 0.9), likely("cache-bloat", 0.5)])
    )
    assert [(p.action.tool, p.action.params) for p in plan.actions] == [
        ("scale", {"replicas": 6}),
        ("purge_cache", {"pattern": "recommender:*"}),
    ]
    assert plan.actions[0].sources == ["runbook:scale-out-on-load"]
    assert plan.actions[0].score > plan.actions[1].score


def test_a_weak_or_contradicted_cause_triggers_no_runbook(sim: SimulatedCluster) -> None:
    against = Evidence("against", "request rate is normal", 0.0)
    plan = planner(sim).plan(
        context(LOAD, [likely("traffic-surge", 0.8, against), likely("input-size-surge", 0.1)])
    )
    assert plan.actions == []


def test_memory_merges_with_runbooks_and_failed_fixes_count_against_themselves(
    sim: SimulatedCluster,
) -> None:
    matches = [
        similar("PAST-A", 0.9, "resolved", Remediation(tool="scale", params={"factor": 2})),
        similar("PAST-B", 0.8, "not_resolved", Remediation(tool="restart")),
        similar("PAST-C", 0.2, "resolved", Remediation(tool="rollback")),  # too dissimilar
    ]
    findings = [finding("latency_p95_ms", 0), finding("request_rate", 0)]
    plan = planner(sim).plan(context(findings, [likely("traffic-surge")], matches))
    assert [p.action.tool for p in plan.actions] == ["scale"]
    assert plan.actions[0].sources == ["runbook:scale-out-on-load", "memory:PAST-A"]
    alone = planner(sim).plan(context(findings, [likely("traffic-surge")])).actions[0].score
    assert plan.actions[0].score > alone


def test_memory_of_a_cause_the_metrics_contradict_lends_nothing(sim: SimulatedCluster) -> None:
    against = Evidence("against", "request payload size is normal", 0.0)
    matches = [
        similar("PAST-1", 0.9, "resolved", Remediation(tool="scale"), cause="input-size-surge")
    ]
    plan = planner(sim).plan(
        context(hypotheses=[likely("input-size-surge", 0.1, against)], matches=matches)
    )
    assert plan.actions == []


def change(at: float, *, live: bool = True, kind: str = "image") -> Change:
    return Change("recommender", 8, at, kind, "image x:1.43.0 (was x:1.42.0)", "", live)  # type: ignore[arg-type]


def test_a_rollout_just_before_the_anomaly_leads_to_its_rollback(sim: SimulatedCluster) -> None:
    findings = [finding("latency_p95_ms", 1000)]
    plan = planner(sim).plan(context(findings, changes=[change(880)]))
    [rollback] = plan.actions
    assert rollback.action.tool == "rollback" and rollback.sources == ["what-changed:rev 8"]
    assert "rollout of recommender rev 8" in rollback.reasons[0]
    assert "2 min before p95 latency rose" in rollback.reasons[0]

    assert planner(sim).plan(context(findings, changes=[change(1200)])).actions == []  # after
    assert planner(sim).plan(context(findings, changes=[change(1000 - 7200)])).actions == []
    stale = planner(sim).plan(context(findings, changes=[change(880, live=False)]))
    assert stale.actions == [] and "no longer live" in stale.notes[0]


def test_unknown_tools_read_only_helpers_and_bad_parameters_are_dropped_and_reported(
    tmp_path: Path, sim: SimulatedCluster
) -> None:
    (tmp_path / "team.yaml").write_text(
        "- name: odd\n  when: {labels: {severity: page}}\n  propose:\n"
        "    - {tool: reboot_node}\n"
        "    - {tool: pod_restarts}\n"
        "    - {tool: purge_cache, params: {pattern: 7}}\n"
        "    - {tool: restart}\n"
    )
    plan = planner(sim, tmp_path).plan(context(labels={"severity": "page"}))
    assert [p.action.tool for p in plan.actions] == ["restart"]
    dropped = " | ".join(plan.dropped)
    assert "unknown tool 'reboot_node'" in dropped
    assert "pod_restarts is a read-only helper" in dropped
    assert "invalid parameters for purge_cache" in dropped


def test_runbooks_diagnostic_steps_are_read_only_helpers(
    tmp_path: Path, sim: SimulatedCluster
) -> None:
    (tmp_path / "team.yaml").write_text(
        "- name: look\n  when: {causes: [crash-loop]}\n  diagnose:\n"
        "    - {tool: deployment_status}\n    - {tool: pod_restarts}\n    - {tool: restart}\n"
    )
    plan = planner(sim, tmp_path).plan(context(hypotheses=[likely("crash-loop", 0.7)]))
    checks = [(a.tool, a.target, source) for a, source in plan.checks]
    assert checks == [  # each helper once, whichever runbook asked first
        ("pod_restarts", "shop/recommender", "runbook:crashing-process"),
        ("recent_rollouts", "shop/recommender", "runbook:crashing-process"),
        ("deployment_status", "shop/recommender", "runbook:look"),
    ]
    assert plan.actions == []  # a write tool among the diagnostic steps is never run
    assert "runbook:look: restart is not read-only; dropped" in plan.dropped


def test_scaling_is_sized_within_the_policy(sim: SimulatedCluster) -> None:
    plan = planner(sim, replicas={"min": 1, "max": 4}).plan(
        context(LOAD, [likely("input-size-surge")])
    )
    scale = next(p for p in plan.actions if p.action.tool == "scale")
    assert scale.action.params == {"replicas": 4}
    assert "6 replicas capped at the policy's ceiling of 4" in scale.reasons[0]


def test_advice_only_runbooks_propose_nothing_but_say_what_to_do(sim: SimulatedCluster) -> None:
    plan = planner(sim).plan(context(hypotheses=[likely("dependency-timeout")]))
    assert plan.actions == []
    assert any("page the owner of the dependency" in a for a in plan.advice)


def test_team_runbooks_are_loaded_and_bad_ones_reported(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(
        "- name: page-restart\n  when: {labels: {severity: page}}\n  propose: [{tool: restart}]\n"
    )
    assert "page-restart" in [r.name for r in load_runbooks(tmp_path)]
    (tmp_path / "broken.yaml").write_text("- name: x\n  when: {}\n  propose: []\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_runbooks(tmp_path)


def test_an_origin_slower_with_nothing_to_explain_it_is_restarted_but_a_lone_alert_is_not(
    sim: SimulatedCluster,
) -> None:
    slow = [finding("latency_p95_ms", 0)]
    origin = {"service": "checkout", "affected": ("frontend",)}
    plan = planner(sim).plan(context(slow, **origin))
    assert [(p.action.tool, p.action.target, p.sources) for p in plan.actions] == [
        ("restart", "shop/checkout", ["runbook:restart-slow-pods"])
    ]
    assert planner(sim).plan(context(slow, service="checkout")).actions == []  # paged itself
    after_release = planner(sim).plan(context(slow, [likely("bad-rollout", 0.9)], **origin))
    assert "runbook:restart-slow-pods" not in [s for p in after_release.actions for s in p.sources]
    under_load = planner(sim).plan(context([*slow, finding("request_rate", 0)], **origin))
    assert all(p.action.tool != "restart" for p in under_load.actions)


def test_a_plan_on_the_origin_acts_there_and_tells_the_alerting_service_why(
    sim: SimulatedCluster,
) -> None:
    rules = planner(sim)
    own = rules.plan(context([finding("latency_p95_ms", 0)], service="frontend"))
    there = rules.plan(
        context(
            [finding("request_rate", 0), finding("latency_p95_ms", 0)],
            [likely("traffic-surge")],
            service="checkout",
        )
    )
    plan = with_origin(own, there, "frontend is affected downstream of checkout")
    assert [(p.action.tool, p.action.target) for p in plan.actions][:1] == [
        ("scale", "shop/checkout")
    ]
    assert plan.advice[0] == "frontend is affected downstream of checkout"
    assert {p.action.target for p in plan.actions} <= {"shop/checkout", "shop/frontend"}


def test_a_past_fix_on_the_origin_is_proposed_on_the_origin_once(sim: SimulatedCluster) -> None:
    past = similar(
        "PAST-O", 0.9, "resolved", Remediation(tool="restart", workload="checkout"), cause="x"
    )
    rules = planner(sim)
    own = rules.plan(context(matches=[past], service="frontend"))
    assert [(p.action.tool, p.action.target) for p in own.actions] == [("restart", "shop/checkout")]
    there = rules.plan(context(matches=[past], service="checkout", affected=("frontend",)))
    [restart] = with_origin(own, there, "frontend is affected downstream of checkout").actions
    assert restart.action.target == "shop/checkout" and restart.sources == ["memory:PAST-O"]
    assert restart.score == own.actions[0].score
