from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.guard import Guard
from tools.policy import Policy, load_policy
from tools.proposals import ProposalStore
from tools.schema import upgraded
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow

WorkflowFactory = Callable[..., RemediationWorkflow]


@pytest.fixture
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return upgraded(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))


@pytest.fixture
def store(engine: Engine) -> ProposalStore:
    return ProposalStore(engine)


@pytest.fixture
def make_workflow(engine: Engine, sim: SimulatedCluster, clock: VirtualClock) -> WorkflowFactory:
    """A workflow on the simulated cluster and a SQLite file; ``policy`` overrides fields of the
    default policy, e.g. ``make_workflow(cooldown_seconds=0)``."""

    def make(**policy_fields: object) -> RemediationWorkflow:
        policy = Policy.model_validate({**load_policy().model_dump(), **policy_fields})
        proposals = ProposalStore(engine)
        return RemediationWorkflow(
            proposals=proposals,
            guard=Guard(policy, sim, proposals),
            backends=Backends(sim, sim, sim),
            clock=clock,
            audit=AuditLog(engine),
        )

    return make
