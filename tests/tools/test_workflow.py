"""The guarded path as Slack, the CLI and the planner use it: propose (guard + dry run), approve
(approver check, exactly what was shown), auto-run, reject, expiry, cooldown, audit."""

from __future__ import annotations

from tests.tools.conftest import WorkflowFactory
from tools.actions import Action, Principal, ToolStatus
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.sim import SimulatedCluster

SCALE = Action("scale", "shop", "recommender", {"replicas": 6})
PURGE = Action("purge_cache", "shop", "recommender", {"pattern": "recommender:*"})
SLACK_APPROVERS = [
    {"tools": ["scale", "purge_cache"], "namespaces": ["shop"], "groups": ["S-SRE"]},
    {"users": ["cli:*"]},
]


def test_proposal_waits_for_approval_with_a_dry_run_preview(
    make_workflow: WorkflowFactory, sim: SimulatedCluster
) -> None:
    flow = make_workflow()
    outcome = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="runbook:x")
    assert outcome.result.status is ToolStatus.APPROVAL_REQUIRED
    assert outcome.proposal.preview == "scale deployment shop/recommender: 3 -> 6 replicas"
    assert outcome.result.details["digest"] == SCALE.digest()
    assert sim.get_deployment("shop", "recommender").replicas == 3


def test_refused_proposal_names_the_rule_and_is_recorded(make_workflow: WorkflowFactory) -> None:
    flow = make_workflow()
    action = Action("scale", "shop", "recommender", {"replicas": 500})
    outcome = flow.propose("INC-1", action, requested_by="cli:alice", source="cli")
    assert outcome.result.status is ToolStatus.REFUSED
    assert outcome.result.summary == (
        "refused by policy (replicas.max): 500 replicas is above the ceiling of 10"
    )
    assert outcome.proposal.status is ProposalStatus.REFUSED
    [entry] = flow.audit.entries()
    assert (entry.event, entry.actor, entry.params) == ("refused", "cli:alice", {"replicas": 500})


def test_slack_approver_refusal_is_addressed_to_them_and_changes_nothing(
    make_workflow: WorkflowFactory, sim: SimulatedCluster
) -> None:
    flow = make_workflow(approvers=SLACK_APPROVERS)
    proposal = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="x").proposal
    refused = flow.approve(proposal.id, "U-DEV", proposal.digest, groups=["S-DEV"])
    assert refused.result.status is ToolStatus.REFUSED
    assert refused.result.summary.startswith("you (U-DEV) may not approve scale in shop")
    assert refused.proposal.status is ProposalStatus.PROPOSED
    done = flow.approve(proposal.id, "U-SRE", proposal.digest, groups=["S-SRE"])
    assert done.result.ok and sim.get_deployment("shop", "recommender").replicas == 6
    assert [e.event for e in flow.audit.entries()] == [
        "proposed",
        "approval_refused",
        "approved",
        "started",
        "executed",
    ]


def test_approval_binds_to_what_was_shown(make_workflow: WorkflowFactory) -> None:
    flow = make_workflow()
    proposal = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="x").proposal
    shown_other = Action("scale", "shop", "recommender", {"replicas": 9}).digest()
    outcome = flow.approve(proposal.id, "cli:alice", shown_other)
    assert outcome.result.status is ToolStatus.REFUSED
    assert "changed since it was shown" in outcome.result.summary


def test_expired_proposal_is_not_executed(
    make_workflow: WorkflowFactory, clock: VirtualClock
) -> None:
    flow = make_workflow(approval_ttl_seconds=60)
    proposal = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="x").proposal
    clock.sleep(61)
    outcome = flow.approve(proposal.id, "cli:alice", proposal.digest)
    assert outcome.result.status is ToolStatus.REFUSED and "expired" in outcome.result.summary
    assert outcome.proposal.status is ProposalStatus.EXPIRED


def test_two_person_rule_stops_self_approval(make_workflow: WorkflowFactory) -> None:
    environments = {
        "production": {"namespaces": ["shop"], "tools": ["scale"], "two_person_rule": True}
    }
    flow = make_workflow(environments=environments, auto_run=[])
    proposal = flow.propose("INC-1", SCALE, requested_by="cli:alice", source="cli").proposal
    own = flow.approve(proposal.id, "cli:alice", proposal.digest)
    other = flow.approve(proposal.id, "cli:bob", proposal.digest)
    assert own.result.status is ToolStatus.REFUSED and "two-person rule" in own.result.summary
    assert other.result.ok


def test_auto_run_rule_executes_low_risk_actions_without_a_human(
    make_workflow: WorkflowFactory, sim: SimulatedCluster
) -> None:
    tools = ["scale", "purge_cache"]
    flow = make_workflow(
        environments={"staging": {"namespaces": ["shop"], "tools": tools}},
        auto_run=[{"tool": "purge_cache", "environments": ["staging"]}],
    )
    purged = flow.propose("INC-1", PURGE, requested_by="medic:planner", source="runbook:p")
    scaled = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="runbook:s")
    assert purged.result.ok and purged.proposal.decided_by == "policy:auto_run"
    assert purged.result.summary.startswith("purged ")
    assert scaled.result.status is ToolStatus.APPROVAL_REQUIRED
    assert sim.get_deployment("shop", "recommender").replicas == 3


def test_cooldown_refuses_the_same_tool_on_the_same_target_again(
    make_workflow: WorkflowFactory, clock: VirtualClock
) -> None:
    flow = make_workflow()
    first = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="x").proposal
    assert flow.approve(first.id, "cli:alice", first.digest).result.ok
    clock.sleep(60)
    again = Action("scale", "shop", "recommender", {"replicas": 8})
    refused = flow.propose("INC-2", again, requested_by="medic:planner", source="x")
    assert refused.result.status is ToolStatus.REFUSED and "(cooldown)" in refused.result.summary
    other_tool = flow.propose("INC-2", PURGE, requested_by="medic:planner", source="x")
    assert other_tool.result.status is ToolStatus.APPROVAL_REQUIRED
    clock.sleep(600)
    later = flow.propose("INC-3", again, requested_by="medic:planner", source="x")
    assert later.result.status is ToolStatus.APPROVAL_REQUIRED


def test_reject_needs_approver_rights_and_is_final(make_workflow: WorkflowFactory) -> None:
    flow = make_workflow(approvers=SLACK_APPROVERS)
    proposal = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="x").proposal
    assert flow.reject(proposal.id, "U-DEV").result.status is ToolStatus.REFUSED
    assert flow.reject(proposal.id, Principal("U-SRE", frozenset({"S-SRE"}))).result.ok
    late = flow.approve(proposal.id, "cli:alice", proposal.digest)
    assert late.result.summary.startswith("already rejected by U-SRE at ")


def test_dry_run_and_read_only_helpers_change_nothing(
    make_workflow: WorkflowFactory, sim: SimulatedCluster
) -> None:
    flow = make_workflow()
    dry = flow.dry_run(Action("rollback", "shop", "checkout", {}), "cli:alice")
    assert dry.status is ToolStatus.DRY_RUN
    assert "from revision 7" in dry.summary and "to revision 6" in dry.summary
    status = flow.read(Action("deployment_status", "shop", "checkout", {}), "cli:alice")
    assert status.summary.startswith("deployment shop/checkout: 4/4 ready, revision 7")
    assert sim.get_deployment("shop", "checkout").revision == 7
    writes = flow.read(SCALE, "cli:alice")
    assert writes.status is ToolStatus.REFUSED


def test_a_backend_that_is_not_configured_refuses_at_the_dry_run(
    make_workflow: WorkflowFactory, sim: SimulatedCluster
) -> None:
    from tools.backends import Backends, NotConfigured

    flow = make_workflow()
    flow.backends = Backends(sim, NotConfigured("Redis", "MEDIC_REDIS_URL"), sim)
    outcome = flow.propose("INC-1", PURGE, requested_by="medic:planner", source="x")
    assert outcome.result.status is ToolStatus.REFUSED
    assert "no Redis configured; set MEDIC_REDIS_URL" in outcome.result.summary
