from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from tools.policy import Policy, load_policy
from tools.proposals import ProposalStore


@pytest.fixture
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def store(tmp_path) -> ProposalStore:  # type: ignore[no-untyped-def]
    return ProposalStore(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))


@pytest.fixture
def memory_store() -> ProposalStore:
    return ProposalStore(
        create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    )
