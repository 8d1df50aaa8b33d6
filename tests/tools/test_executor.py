"""Nothing reaches the cluster without approval and the guard; an approval executes once."""

from __future__ import annotations

from tools.actions import Action, ToolStatus
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.executor import Executor
from tools.guard import Guard
from tools.policy import Policy, load_policy
from tools.proposals import ProposalStatus, ProposalStore
from tools.sim import SimulatedCluster

NOW = 1_800_000_000.0


def setup(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock, policy: Policy | None = None
) -> tuple[Executor, str, Action]:
    action = Action("scale", "shop", "recommender", {"replicas": 6})
    pid = store.create(
        "INC-0001",
        action,
        source="s",
        rationale="",
        preview="",
        recipe={},
        now=clock.now(),
        ttl_seconds=900,
    ).id
    executor = Executor(store, Guard(policy or load_policy(), sim), Backends(sim, sim), clock)
    return executor, pid, action


def test_unapproved_proposal_does_not_touch_the_cluster(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock
) -> None:
    executor, pid, _ = setup(store, sim, clock)
    result = executor.execute(pid)
    assert result.status is ToolStatus.APPROVAL_REQUIRED
    assert sim.get_deployment("shop", "recommender").replicas == 3


def test_approved_proposal_executes_exactly_once(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock
) -> None:
    executor, pid, action = setup(store, sim, clock)
    store.approve(pid, "U1", action.digest(), clock.now())
    first = executor.execute(pid)
    sim.scale("shop", "recommender", 4)  # someone changes it by hand afterwards
    second = executor.execute(pid)
    assert first.status is ToolStatus.SUCCEEDED and first.summary == "scaled recommender 3 -> 6"
    assert second.status is ToolStatus.REFUSED and "already executed" in second.summary
    assert sim.get_deployment("shop", "recommender").replicas == 4
    assert store.get(pid).status is ProposalStatus.SUCCEEDED  # type: ignore[union-attr]


def test_policy_change_after_approval_still_stops_execution(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock
) -> None:
    strict = Policy(namespaces=["other"], tools=["scale"])
    executor, pid, action = setup(store, sim, clock, policy=strict)
    store.approve(pid, "U1", action.digest(), clock.now())
    result = executor.execute(pid)
    assert result.status is ToolStatus.REFUSED and "namespaces" in result.summary
    assert sim.get_deployment("shop", "recommender").replicas == 3
