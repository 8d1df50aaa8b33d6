"""Verifying a model remedy as the person who approved it reads the result: after promote_model
the alias names the version and the quality proxy (click-through) is back; after retrain a new
version is registered and served and the quality proxy is back. "Not verified" names what did
not hold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.diagnosis.model_checks import model_checks
from bot.diagnosis.verification import MetricCheck, Verification, with_model_checks
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.actions import Action
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.executor import Executor
from tools.guard import Guard
from tools.policy import load_policy
from tools.proposals import Proposal, ProposalStatus, ProposalStore
from tools.registry import MemoryRegistry, MemoryTraining, ModelVersion, RegistryError
from tools.schema import upgraded
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow

MODEL = "recommender-ranker"
CTR = "click_through_rate"


def ctr(recovered: bool) -> MetricCheck:
    after = 0.031 if recovered else 0.012
    verdict = "back to" if recovered else "still at"
    return MetricCheck(
        CTR, "click-through rate", 0.03, 0.012, after, recovered, f"click-through {verdict} x"
    )


@pytest.fixture
def registry() -> MemoryRegistry:
    registry = MemoryRegistry()
    for _ in range(3):
        registry.register(MODEL)
    registry.set_alias(MODEL, "champion", "3")
    return registry


@pytest.fixture
def workflow(
    tmp_path: Path, sim: SimulatedCluster, clock: VirtualClock, registry: MemoryRegistry
) -> RemediationWorkflow:
    from sqlalchemy import create_engine

    engine = upgraded(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    proposals = ProposalStore(engine)
    return RemediationWorkflow(
        proposals=proposals,
        guard=Guard(load_policy(), sim, proposals),
        backends=Backends(sim, sim, sim, registry, MemoryTraining(registry)),
        clock=clock,
        audit=AuditLog(engine),
    )


def executed(workflow: RemediationWorkflow, action: Action) -> Proposal:
    proposal = workflow.propose("INC-1", action, requested_by="cli:a", source="cli").proposal
    done = workflow.approve(proposal.id, "cli:a", proposal.digest)
    assert done.result.ok, done.result.summary
    return done.proposal


PROMOTE = Action("promote_model", "shop", "recommender", {"model": MODEL})
RETRAIN = Action("retrain", "shop", "recommender", {"model": MODEL})


def test_a_promotion_that_holds_and_a_quality_proxy_back_is_verified(
    workflow: RemediationWorkflow, registry: MemoryRegistry
) -> None:
    proposal = executed(workflow, PROMOTE)
    checks = model_checks(registry, proposal)
    assert [c.text for c in checks] == ["alias champion of recommender-ranker names version 2"]
    verified = with_model_checks(Verification(True, [ctr(True)]), checks, CTR)
    assert verified.recovered


def test_a_promotion_undone_meanwhile_is_not_verified_and_says_so(
    workflow: RemediationWorkflow, registry: MemoryRegistry
) -> None:
    proposal = executed(workflow, PROMOTE)
    registry.set_alias(MODEL, "champion", "3")  # someone put the new version back
    verified = with_model_checks(
        Verification(True, [ctr(True)]), model_checks(registry, proposal), CTR
    )
    assert not verified.recovered
    assert [c.text for c in verified.checks if not c.recovered] == [
        "alias champion of recommender-ranker names version 3, not version 2"
    ]


def test_the_model_back_but_click_through_still_low_is_not_verified(
    workflow: RemediationWorkflow, registry: MemoryRegistry
) -> None:
    proposal = executed(workflow, PROMOTE)
    verified = with_model_checks(
        Verification(False, [ctr(False)]), model_checks(registry, proposal), CTR
    )
    assert not verified.recovered
    assert [c.text for c in verified.checks if not c.recovered] == ["click-through still at x"]


def test_retrain_is_verified_once_a_new_version_is_registered_and_served(
    workflow: RemediationWorkflow, registry: MemoryRegistry
) -> None:
    proposal = executed(workflow, RETRAIN)
    training = workflow.backends.training
    assert isinstance(training, MemoryTraining)
    running = model_checks(registry, proposal)
    assert [(c.recovered, c.text) for c in running] == [
        (
            False,
            "training of recommender-ranker has not registered a new version yet "
            "(newest is still version 3)",
        )
    ]
    training.finish(training.started[0])
    registered = model_checks(registry, proposal)
    assert [(c.recovered, c.text) for c in registered] == [
        (True, "training of recommender-ranker finished: version 4 registered"),
        (False, "champion of recommender-ranker serves version 3, not the new version 4"),
    ]
    registry.set_alias(MODEL, "champion", "4")
    served = with_model_checks(
        Verification(True, [ctr(True)]), model_checks(registry, proposal), CTR
    )
    assert served.recovered
    assert served.checks[-1].text == "champion of recommender-ranker serves version 4"


def test_a_registry_down_at_verification_is_a_check_that_did_not_hold(
    workflow: RemediationWorkflow, registry: MemoryRegistry
) -> None:
    proposal = executed(workflow, PROMOTE)

    class Down(MemoryRegistry):
        def alias(self, model: str, alias: str) -> ModelVersion | None:
            raise RegistryError("cannot reach mlflow at http://127.0.0.1:5000:\nrefused")

    [check] = model_checks(Down(), proposal)
    assert not check.recovered
    assert check.text == "registry: cannot reach mlflow at http://127.0.0.1:5000: refused"


def test_the_flow_verifies_a_model_remedy_by_the_registry_and_the_quality_proxy(
    tmp_path: Path,
    sim: SimulatedCluster,
    clock: VirtualClock,
    embedder: MiniLMEmbedding,
    registry: MemoryRegistry,
) -> None:
    """On the input-size surge the click-through was never abnormal: the alias moved, but
    nothing says the model fixed anything, and the verification says which."""
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    work = flow.workflow
    work.backends = replace(work.backends, registry=registry)
    work.executor = Executor(work.proposals, work.guard, work.backends, work.clock, work.audit)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    investigation = flow.investigate(incident)
    proposal = work.propose(incident.id, PROMOTE, requested_by="cli:a", source="cli").proposal
    assert work.approve(proposal.id, "cli:a", proposal.digest).proposal.status is (
        ProposalStatus.SUCCEEDED
    )
    verification = flow.verify(incident, investigation)
    assert not verification.recovered
    texts = [c.text for c in verification.checks]
    assert "alias champion of recommender-ranker names version 2" in texts
    assert texts[-1] == (
        "quality proxy click_through_rate: was not among the abnormal metrics, so its recovery "
        "could not be judged"
    )
