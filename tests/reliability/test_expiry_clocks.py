"""A proposal's time to approve, between replicas whose wall clocks disagree by twenty minutes (a VM
resumed from suspend, a host with broken NTP): it is written and judged by the state database's
clock alone, so the replica a click reaches neither refuses a live proposal (its clock ahead) nor
runs an expired one (its clock behind), and the reconcile sweep agrees with the click. Two
replicas' workflows as `medic serve` wires them (real time), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.wiring import Wiring
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.actions import Action, ToolStatus
from tools.clock import SystemClock
from tools.proposals import Proposal, ProposalStatus
from tools.sim import SCENARIOS, SimulatedCluster
from tools.workflow import RemediationWorkflow

SKEW = 1200.0  # seconds: twenty minutes, more than the default time to approve (15)
SCALE = Action("scale", "shop", "recommender", {"replicas": 6})


class SkewedClock(SystemClock):
    """Real time as one replica's host tells it: ``skew`` seconds off."""

    def __init__(self, skew: float) -> None:
        self.skew = skew

    def now(self) -> float:
        return time.time() + self.skew


Replica = Callable[..., RemediationWorkflow]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def replica(database_url: str, tmp_path: Path) -> Iterator[Replica]:
    """Start a replica on the shared state database and the one simulated shop, its clock
    ``skew`` seconds off, with ``approval_ttl_seconds`` ``ttl`` in its policy."""
    shop = SimulatedCluster(SCENARIOS["input-size-surge"], SystemClock())
    wirings: list[Wiring] = []

    def start(skew: float, ttl: int = 900) -> RemediationWorkflow:
        root = tmp_path / f"replica{len(wirings)}"
        root.mkdir()
        policy = yaml.safe_load(
            resources.files("tools").joinpath("default_policy.yaml").read_text()
        )
        policy["approval_ttl_seconds"] = ttl
        (root / "policy.yaml").write_text(yaml.safe_dump(policy))
        settings = Settings(
            cluster="sim", data_dir=root / "data", database_url=database_url,
            policy=root / "policy.yaml",
        )  # fmt: skip
        wiring = Wiring(settings)
        wirings.append(wiring)
        clock = SkewedClock(skew)
        return wiring.workflow(wiring.sources(clock, shop).backends, clock)

    yield start
    for wiring in wirings:
        wiring.close()


def propose(workflow: RemediationWorkflow) -> Proposal:
    outcome = workflow.propose("INC-1", SCALE, requested_by="medic:planner", source="runbook:x")
    assert outcome.result.status is ToolStatus.APPROVAL_REQUIRED, outcome.result.summary
    return outcome.proposal


def test_a_click_on_a_replica_whose_clock_runs_ahead_approves_a_live_proposal(
    replica: Replica,
) -> None:
    """Proposed on a, clicked at once on b, twenty minutes ahead: approved and run (was: "the
    proposal expired", b's clock being past a's expiry); b's reconcile sweep leaves it alone
    first (was: it took the buttons off a live proposal)."""
    a, b = replica(0.0), replica(SKEW)
    proposal = propose(a)
    assert b.proposals.expire_due(b.clock.now()) == []
    outcome = b.approve(proposal.id, "cli:alice", proposal.digest)
    assert outcome.result.ok, outcome.result.summary
    assert outcome.proposal.status is ProposalStatus.SUCCEEDED


def test_a_click_on_a_replica_whose_clock_runs_behind_does_not_run_an_expired_proposal(
    replica: Replica,
) -> None:
    """A second to approve; proposed on a, clicked on b, twenty minutes behind, once the second
    has passed by the database's clock: refused as expired, nothing run (was: approved and run
    up to twenty minutes late). b's sweep moves it to expired too (was: it never did while
    b's clock was behind)."""
    a, b = replica(0.0, ttl=1), replica(-SKEW, ttl=1)
    proposal = propose(a)
    later = propose(a)
    # the database runs on this host: its clock is time.time() here
    time.sleep(max(0.0, max(proposal.expires_at, later.expires_at) - time.time()) + 0.05)
    outcome = b.approve(proposal.id, "cli:alice", proposal.digest)
    assert outcome.result.status is ToolStatus.REFUSED
    assert "expired" in outcome.result.summary
    assert outcome.proposal.status is ProposalStatus.EXPIRED
    assert [p.id for p in b.proposals.expire_due(b.clock.now())] == [later.id]
