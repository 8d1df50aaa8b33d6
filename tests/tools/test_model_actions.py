"""promote_model and retrain through the guarded path, as a person approving them in Slack or the
CLI sees them: the preview says from which version to which (or what a training run costs), the
approval binds those exact versions, it runs once, the policy's model allowlist holds, and a
registry that is down is one failed line, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tools.actions import Action, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.guard import Guard
from tools.policy import Policy, load_policy
from tools.proposals import ProposalStatus, ProposalStore
from tools.registry import MemoryRegistry, MemoryTraining, RegistryUnavailableError
from tools.registry.base import AliasMove, ModelVersion
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow

MODEL = "recommender-ranker"
Factory = Callable[..., RemediationWorkflow]
PROMOTE = Action("promote_model", "shop", "recommender", {"model": MODEL})
RETRAIN = Action("retrain", "shop", "recommender", {"model": MODEL})


class Unreachable(MemoryRegistry):
    """A registry that goes down when told to, as an MLflow server stopping does."""

    down = False
    # stops answering during the alias's real write: before it reached the registry (False)
    # or after the alias moved, the answer lost (True); None: never
    lost_write: bool | None = None
    writes = 0

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        if self.down:
            raise RegistryUnavailableError(
                "cannot reach mlflow at http://127.0.0.1:5000:\n  Connection refused\n  (errno 111)"
            )
        return super().alias(model, alias)

    def set_alias(
        self, model: str, alias: str, version: str, *, dry_run: bool = False
    ) -> AliasMove:
        if self.down:
            raise RegistryUnavailableError("cannot reach mlflow at http://127.0.0.1:5000")
        if dry_run or self.lost_write is None:
            return super().set_alias(model, alias, version, dry_run=dry_run)
        self.writes += 1
        if self.lost_write:
            super().set_alias(model, alias, version)
        self.down = True
        raise RegistryUnavailableError("read timed out from mlflow at http://127.0.0.1:5000")


@pytest.fixture
def registry() -> Unreachable:
    registry = Unreachable()
    for _ in range(3):
        registry.register(MODEL)
    registry.register("fraud-scorer")
    registry.set_alias(MODEL, "champion", "3")
    registry.set_alias("fraud-scorer", "champion", "1")
    return registry


@pytest.fixture
def training(registry: MemoryRegistry) -> MemoryTraining:
    return MemoryTraining(registry, minutes=45, cost="8 GPU-hours on the training pool")


@pytest.fixture
def make(
    engine: Engine,
    sim: SimulatedCluster,
    clock: VirtualClock,
    registry: MemoryRegistry,
    training: MemoryTraining,
) -> Factory:
    def build(**policy_fields: object) -> RemediationWorkflow:
        policy = Policy.model_validate({**load_policy().model_dump(), **policy_fields})
        proposals = ProposalStore(engine)
        return RemediationWorkflow(
            proposals=proposals,
            guard=Guard(policy, sim, proposals),
            backends=Backends(sim, sim, sim, registry, training),
            clock=clock,
            audit=AuditLog(engine),
        )

    return build


def champion(registry: MemoryRegistry) -> str | None:
    current = registry.alias(MODEL, "champion")
    return current.version if current else None


def test_promote_is_proposed_with_the_versions_it_moves_between_and_runs_once_approved(
    make: Factory, registry: MemoryRegistry
) -> None:
    flow = make()
    proposed = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="runbook:x")
    assert proposed.result.status is ToolStatus.APPROVAL_REQUIRED
    assert proposed.proposal.preview == (
        "move alias champion of model recommender-ranker from version 3 to version 2 "
        "(served by shop/recommender; reversible: promote 3 again)"
    )
    assert proposed.proposal.action.params == {
        "model": MODEL,
        "alias": "champion",
        "version": "2",
        "from_version": "3",
    }
    assert champion(registry) == "3"  # the dry run changed nothing

    done = flow.approve(proposed.proposal.id, "cli:alice", proposed.proposal.digest)
    assert done.result.ok, done.result.summary
    assert champion(registry) == "2"
    assert done.result.summary.startswith("moved alias champion of model recommender-ranker")
    again = flow.approve(proposed.proposal.id, "cli:alice", proposed.proposal.digest)
    assert again.result.status is ToolStatus.REFUSED and champion(registry) == "2"
    executed = [e for e in flow.audit.entries() if e.event == "executed"]
    assert len(executed) == 1
    assert executed[0].params == proposed.proposal.action.params  # model, alias, from, to
    assert "from version 3 to version 2" in executed[0].result


def test_the_approval_binds_the_exact_version(make: Factory, registry: MemoryRegistry) -> None:
    flow = make()
    proposal = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="x").proposal
    other = Action(
        "promote_model",
        "shop",
        "recommender",
        {"model": MODEL, "alias": "champion", "version": "1", "from_version": "3"},
    )
    refused = flow.approve(proposal.id, "cli:alice", other.digest())
    assert refused.result.status is ToolStatus.REFUSED
    assert "changed since it was shown" in refused.result.summary
    assert champion(registry) == "3"


def test_a_registry_that_moved_after_the_proposal_needs_a_new_approval(
    make: Factory, registry: MemoryRegistry
) -> None:
    flow = make()
    proposal = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="x").proposal
    registry.register(MODEL)
    registry.set_alias(MODEL, "champion", "4")  # someone deployed version 4 meanwhile
    outcome = flow.approve(proposal.id, "cli:alice", proposal.digest)
    assert outcome.result.status is ToolStatus.FAILED
    assert "names version 4 now, not version 3 as shown when proposed" in outcome.result.summary
    assert champion(registry) == "4"


def test_an_expired_promotion_is_not_run(
    make: Factory, registry: MemoryRegistry, clock: VirtualClock
) -> None:
    flow = make(approval_ttl_seconds=60)
    proposal = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="x").proposal
    clock.sleep(61)
    outcome = flow.approve(proposal.id, "cli:alice", proposal.digest)
    assert outcome.result.status is ToolStatus.REFUSED and "expired" in outcome.result.summary
    assert champion(registry) == "3"


def test_a_model_not_in_the_allowlist_is_refused_naming_the_rule(
    make: Factory, registry: MemoryRegistry
) -> None:
    flow = make()
    other = Action("promote_model", "shop", "recommender", {"model": "fraud-scorer"})
    outcome = flow.propose("INC-1", other, requested_by="cli:alice", source="cli")
    assert outcome.result.summary == (
        "refused by policy (models): model 'fraud-scorer' is not among the models Medic may "
        "touch in shop (recommender-ranker)"
    )
    assert outcome.proposal.status is ProposalStatus.REFUSED
    unlisted = make(models={})
    refused = unlisted.propose("INC-1", RETRAIN, requested_by="cli:alice", source="cli")
    assert refused.result.summary == (
        "refused by policy (models): model 'recommender-ranker' is not among the models Medic "
        "may touch in shop (none)"
    )


def test_approvers_cover_the_model_tools_as_any_other(
    make: Factory, registry: MemoryRegistry
) -> None:
    flow = make(
        approvers=[{"tools": ["promote_model"], "namespaces": ["shop"], "groups": ["S-ML"]}]
    )
    proposal = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="x").proposal
    refused = flow.approve(proposal.id, "U-DEV", proposal.digest, groups=["S-SRE"])
    assert refused.result.summary.startswith("you (U-DEV) may not approve promote_model in shop")
    assert champion(registry) == "3"
    assert flow.approve(proposal.id, "U-ML", proposal.digest, groups=["S-ML"]).result.ok


def test_a_registry_down_when_the_approved_action_runs_is_not_done_not_failed(
    make: Factory, registry: Unreachable
) -> None:
    flow = make()
    proposal = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="x").proposal
    registry.down = True
    outcome = flow.approve(proposal.id, "cli:alice", proposal.digest)
    said = (
        "not done: the model registry could not be reached (cannot reach mlflow at "
        "http://127.0.0.1:5000: Connection refused (errno 111))"
    )
    assert outcome.result.status is ToolStatus.REFUSED and outcome.result.summary == said
    assert outcome.result.details["rule"] == "unreachable"  # the CLI's exit 4, not a policy's 3
    assert outcome.proposal.status is ProposalStatus.REFUSED
    assert outcome.proposal.refusal == said  # as Slack shows it
    [entry] = [e for e in flow.audit.entries() if e.proposal_id == proposal.id][-1:]
    assert (entry.event, entry.decision, entry.result) == ("refused", said, "not executed")
    registry.down = False
    assert champion(registry) == "3"


@pytest.mark.parametrize("took", [False, True])
def test_a_registry_lost_mid_write_is_settled_from_the_registry_not_failed(
    make: Factory, registry: Unreachable, clock: VirtualClock, took: bool
) -> None:
    registry.lost_write = took
    flow = make()
    proposal = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="x").proposal
    outcome = flow.approve(proposal.id, "cli:alice", proposal.digest)

    # the registry still away: unknown, left for the reconciler - not "failed"
    assert outcome.proposal.status is ProposalStatus.EXECUTING
    assert outcome.result.status is ToolStatus.FAILED  # the CLI's exit 4
    assert outcome.result.summary.startswith("promote_model on shop/recommender: unknown: ")
    assert "settled from the registry when it answers (reconcile)" in outcome.result.summary
    [entry] = [e for e in flow.audit.entries() if e.proposal_id == proposal.id][-1:]
    assert entry.event == "unknown" and "read timed out" in entry.result

    # the registry back: the reconciler settles it from what the alias names, never writes again
    registry.down = False
    clock.sleep(3600)
    [settled] = flow.settle_interrupted(after_seconds=600)
    assert settled.proposal.status is (ProposalStatus.SUCCEEDED if took else ProposalStatus.FAILED)
    assert registry.writes == 1
    assert champion(registry) == ("2" if took else "3")


def test_a_registry_down_when_proposing_is_not_a_policy_verdict(
    make: Factory, registry: Unreachable
) -> None:
    registry.down = True
    flow = make()
    outcome = flow.propose("INC-1", PROMOTE, requested_by="medic:planner", source="x")
    assert outcome.result.status is ToolStatus.REFUSED
    assert outcome.result.summary == (
        "not done: the model registry could not be reached (cannot reach mlflow at "
        "http://127.0.0.1:5000: Connection refused (errno 111))"
    )
    assert outcome.proposal.refusal == outcome.result.summary  # as Slack shows it
    [entry] = [e for e in flow.audit.entries() if e.event == "refused"]
    assert entry.decision == outcome.result.summary


def test_a_version_that_does_not_exist_is_named(make: Factory, registry: MemoryRegistry) -> None:
    flow = make()
    named = Action("promote_model", "shop", "recommender", {"model": MODEL, "version": "9"})
    outcome = flow.propose("INC-1", named, requested_by="cli:alice", source="cli")
    assert outcome.result.summary == "not done: version 9 of recommender-ranker does not exist"
    assert outcome.proposal.refusal == outcome.result.summary
    assert flow.dry_run(named, "cli:alice").summary == outcome.result.summary


def test_promoting_a_named_version_and_nothing_to_go_back_to(
    make: Factory, registry: MemoryRegistry
) -> None:
    flow = make(cooldown_seconds=0)
    named = Action(
        "promote_model", "shop", "recommender", {"model": MODEL, "version": 1}
    )  # --param version=1 reads as a number
    proposal = flow.propose("INC-1", named, requested_by="cli:alice", source="cli").proposal
    assert "from version 3 to version 1" in proposal.preview
    assert flow.approve(proposal.id, "cli:alice", proposal.digest).result.ok
    oldest = flow.propose("INC-1", PROMOTE, requested_by="cli:alice", source="cli")
    assert oldest.result.status is ToolStatus.REFUSED
    assert "version 1 is the oldest of recommender-ranker" in oldest.result.summary


def test_the_cooldown_holds_for_promotions(make: Factory, registry: MemoryRegistry) -> None:
    flow = make()
    first = flow.propose("INC-1", PROMOTE, requested_by="cli:alice", source="cli").proposal
    assert flow.approve(first.id, "cli:alice", first.digest).result.ok
    second = flow.propose("INC-1", PROMOTE, requested_by="cli:alice", source="cli")
    assert second.result.summary.startswith("refused by policy (cooldown)")
    assert champion(registry) == "2"


def test_dry_run_of_either_tool_changes_nothing(
    make: Factory, registry: MemoryRegistry, training: MemoryTraining
) -> None:
    flow = make()
    promoted = flow.dry_run(PROMOTE, "cli:alice")
    assert promoted.status is ToolStatus.DRY_RUN
    assert "from version 3 to version 2" in promoted.summary
    trained = flow.dry_run(RETRAIN, "cli:alice")
    assert trained.status is ToolStatus.DRY_RUN
    assert trained.summary == (
        "start a training run of model recommender-ranker on recent data "
        "(about 45 min, 8 GPU-hours on the training pool)"
    )
    assert champion(registry) == "3" and training.started == []
    assert [v.version for v in registry.versions(MODEL)] == ["3", "2", "1"]


def test_retrain_says_what_it_costs_and_starts_one_run_once_approved(
    make: Factory, training: MemoryTraining
) -> None:
    flow = make()
    proposal = flow.propose("INC-1", RETRAIN, requested_by="medic:planner", source="x").proposal
    assert "about 45 min, 8 GPU-hours on the training pool" in proposal.preview
    assert training.started == []
    done = flow.approve(proposal.id, "cli:alice", proposal.digest)
    assert done.result.ok
    assert training.started == ["train-recommender-ranker-1"]
    assert done.result.details["run_id"] == "train-recommender-ranker-1"
    [executed] = [e for e in flow.audit.entries() if e.event == "executed"]
    assert "started training run train-recommender-ranker-1" in executed.result


def test_without_a_registry_the_proposal_says_what_to_set(
    engine: Engine, sim: SimulatedCluster, clock: VirtualClock, tmp_path: Path
) -> None:
    proposals = ProposalStore(engine)
    flow = RemediationWorkflow(
        proposals=proposals,
        guard=Guard(load_policy(), sim, proposals),
        backends=Backends(sim, sim, sim),
        clock=clock,
        audit=AuditLog(engine),
    )
    outcome = flow.propose("INC-1", RETRAIN, requested_by="cli:alice", source="cli")
    assert outcome.result.status is ToolStatus.REFUSED
    assert "no training pipeline configured; set training_jobs in the policy" in (
        outcome.result.summary
    )


@pytest.mark.parametrize(
    ("moved_to", "status", "finding"),
    [
        ("2", ProposalStatus.SUCCEEDED, "alias champion of recommender-ranker names version 2"),
        ("3", ProposalStatus.FAILED, "alias champion of recommender-ranker still names version 3"),
        ("1", ProposalStatus.UNKNOWN, "names version 1, changed by someone else"),
    ],
)
def test_an_interrupted_promotion_is_settled_from_the_registry_never_run_again(
    make: Factory,
    registry: MemoryRegistry,
    clock: VirtualClock,
    moved_to: str,
    status: ProposalStatus,
    finding: str,
) -> None:
    """Medic died between starting the promotion and recording its end: the registry says what
    happened, and the alias is not moved a second time."""
    flow = make()
    proposal = flow.propose("INC-1", PROMOTE, requested_by="cli:alice", source="cli").proposal
    now = clock.now()
    flow.proposals.approve(proposal.id, "cli:alice", proposal.digest, now)
    preview = flow.dry_run(proposal.action, "cli:alice")
    assert flow.proposals.begin_execution(proposal.id, now, expected=preview.details).ok
    registry.set_alias(MODEL, "champion", moved_to)  # what the write did, or did not, do
    clock.sleep(3600)
    [settled] = flow.settle_interrupted(after_seconds=600)
    assert settled.proposal.status is status
    assert finding in settled.finding
    assert champion(registry) == moved_to


def test_an_alias_set_for_the_first_time_names_no_version_to_go_back_to(
    make: Factory, registry: MemoryRegistry
) -> None:
    flow = make()
    first = Action(
        "promote_model", "shop", "recommender", {"model": MODEL, "alias": "canary", "version": "3"}
    )
    proposed = flow.propose("INC-1", first, requested_by="cli:alice", source="cli").proposal
    assert proposed.preview == (
        "move alias canary of model recommender-ranker from no version to version 3 "
        "(served by shop/recommender)"
    )
    assert "from_version" not in proposed.action.params
    unnamed = Action("promote_model", "shop", "recommender", {"model": MODEL, "alias": "shadow"})
    refused = flow.propose("INC-1", unnamed, requested_by="cli:alice", source="cli")
    assert "alias shadow of recommender-ranker names no version; name the version" in (
        refused.result.summary
    )


def test_cooldowns_count_per_model_not_per_service(
    make: Factory, registry: MemoryRegistry, training: MemoryTraining
) -> None:
    """Two models served by one service each have their own cooldown, and so does one model
    served by two services; the same model on the same service waits, in words naming it."""
    registry.register("fraud-scorer")
    registry.set_alias("fraud-scorer", "champion", "2")
    flow = make(models={"shop": [MODEL, "fraud-scorer"]})

    def run(action: Action) -> ToolStatus:
        proposed = flow.propose("INC-1", action, requested_by="cli:alice", source="cli")
        if proposed.result.status is not ToolStatus.APPROVAL_REQUIRED:
            return proposed.result.status
        return flow.approve(proposed.proposal.id, "cli:bob", proposed.proposal.digest).result.status

    assert run(PROMOTE) is ToolStatus.SUCCEEDED
    other_model = Action("promote_model", "shop", "recommender", {"model": "fraud-scorer"})
    assert run(other_model) is ToolStatus.SUCCEEDED  # the same service, another model
    assert registry.alias("fraud-scorer", "champion").version == "1"  # type: ignore[union-attr]
    other_service = Action("retrain", "shop", "checkout", {"model": MODEL})
    assert run(RETRAIN) is ToolStatus.SUCCEEDED
    assert run(other_service) is ToolStatus.SUCCEEDED  # the same model, another service
    assert len(training.started) == 2

    again = flow.propose("INC-1", PROMOTE, requested_by="cli:alice", source="cli").result
    assert again.status is ToolStatus.REFUSED
    assert again.summary.startswith(
        "refused by policy (cooldown): promote_model of model 'recommender-ranker' already ran "
        "on shop/recommender 0 s ago"
    )
    twice = flow.propose("INC-1", RETRAIN, requested_by="cli:alice", source="cli").result
    assert twice.summary.startswith("refused by policy (cooldown): retrain of model")


class Killed(BaseException):
    """The process dying (kill -9, OOM): nothing after it runs, nothing catches it."""


@pytest.mark.parametrize(
    ("then", "status", "finding"),
    [
        ("finished", ProposalStatus.SUCCEEDED, "version 4 of recommender-ranker was registered"),
        ("running", ProposalStatus.SUCCEEDED, "was started and is still running"),
        ("failed", ProposalStatus.FAILED, "failed; the newest version is version 3"),
        ("never", ProposalStatus.FAILED, "no training run of recommender-ranker was started"),
    ],
)
def test_an_interrupted_retrain_is_settled_from_the_registry_and_pipeline(
    make: Factory,
    training: MemoryTraining,
    clock: VirtualClock,
    monkeypatch: pytest.MonkeyPatch,
    then: str,
    status: ProposalStatus,
    finding: str,
) -> None:
    """Medic dies between starting the training run and recording it (or right before the
    start): a new flow on the same state settles it from what the registry and the pipeline
    hold - never as unknown, and the run is never started again."""
    flow = make()
    proposal = flow.propose("INC-1", RETRAIN, requested_by="medic:planner", source="x").proposal
    start = training.start

    def dies(model: str, *, dry_run: bool = False, reference: str = "") -> object:
        if dry_run:
            return start(model, dry_run=True)
        if then != "never":
            start(model, reference=reference)
        raise Killed

    monkeypatch.setattr(training, "start", dies)
    with pytest.raises(Killed):
        flow.approve(proposal.id, "cli:alice", proposal.digest)
    monkeypatch.setattr(training, "start", start)
    assert flow.proposals.get(proposal.id).status is ProposalStatus.EXECUTING  # type: ignore[union-attr]
    if then == "finished":
        training.finish(training.started[0])
    elif then == "failed":
        training.finish(training.started[0], failed=True)

    clock.sleep(3600)
    [settled] = make().settle_interrupted(after_seconds=600)  # another process, the same state
    assert settled.proposal.status is status, settled.finding
    assert finding in settled.finding
    assert len(training.started) == (0 if then == "never" else 1)  # not started again
    [entry] = [e for e in flow.audit.entries() if e.event == "reconciled"]
    assert entry.result == f"{status.value}: {settled.finding}"
