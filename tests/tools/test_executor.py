"""Nothing reaches the cluster without approval and the guard; an approval executes once, with a
dry run before the real write; a failing backend is a failed result, recorded, never re-run."""

from __future__ import annotations

from tools.actions import Action, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.errors import TransientError
from tools.executor import Executor
from tools.guard import Guard
from tools.policy import Policy, load_policy
from tools.proposals import ProposalStatus, ProposalStore
from tools.sim import SimulatedCluster

ACTION = Action("scale", "shop", "recommender", {"replicas": 6})


class RecordingCluster:
    """The simulated cluster, recording every write (and able to fail the real one)."""

    def __init__(self, sim: SimulatedCluster, fail_real_writes: bool = False) -> None:
        self._sim = sim
        self.name = sim.name
        self.calls: list[tuple[str, int, bool]] = []
        self._fail = fail_real_writes

    def get_deployment(self, namespace: str, name: str):  # type: ignore[no-untyped-def]
        return self._sim.get_deployment(namespace, name)

    def scale(self, namespace: str, name: str, replicas: int, *, dry_run: bool = False) -> int:
        self.calls.append(("scale", replicas, dry_run))
        if self._fail and not dry_run:
            raise TransientError("503 from the API server", may_have_applied=True)
        return self._sim.scale(namespace, name, replicas, dry_run=dry_run)


def setup(
    store: ProposalStore,
    cluster: RecordingCluster,
    sim: SimulatedCluster,
    clock: VirtualClock,
    audit: AuditLog,
    policy: Policy | None = None,
) -> tuple[Executor, str]:
    pid = store.create(
        "INC-0001",
        ACTION,
        source="s",
        rationale="",
        preview="",
        recipe={},
        now=clock.now(),
        ttl_seconds=900,
        cluster=cluster.name,
    ).id
    guard = Guard(policy or load_policy(), cluster, store)  # type: ignore[arg-type]
    backends = Backends(cluster, sim, sim)  # type: ignore[arg-type]
    return Executor(store, guard, backends, clock, audit), pid


def test_unapproved_proposal_does_not_touch_the_cluster(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock, engine
) -> None:  # type: ignore[no-untyped-def]
    cluster = RecordingCluster(sim)
    executor, pid = setup(store, cluster, sim, clock, AuditLog(engine))
    assert executor.execute(pid).status is ToolStatus.APPROVAL_REQUIRED
    assert cluster.calls == []


def test_approved_proposal_dry_runs_then_executes_exactly_once(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock, engine
) -> None:  # type: ignore[no-untyped-def]
    cluster = RecordingCluster(sim)
    audit = AuditLog(engine)
    executor, pid = setup(store, cluster, sim, clock, audit)
    store.approve(pid, "U1", ACTION.digest(), clock.now())
    first = executor.execute(pid)
    second = executor.execute(pid)
    assert first.status is ToolStatus.SUCCEEDED
    assert first.summary == "scaled deployment shop/recommender: 3 -> 6 replicas"
    assert cluster.calls == [("scale", 6, True), ("scale", 6, False)]
    assert second.status is ToolStatus.REFUSED
    assert second.summary.startswith("already executed by U1 at ")
    assert [e.event for e in audit.entries()] == ["started", "executed"]


def test_policy_change_after_approval_still_stops_execution(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock, engine
) -> None:  # type: ignore[no-untyped-def]
    strict = Policy(environments={"prod": {"namespaces": ["other"], "tools": ["scale"]}})  # type: ignore[dict-item]
    cluster = RecordingCluster(sim)
    executor, pid = setup(store, cluster, sim, clock, AuditLog(engine), policy=strict)
    store.approve(pid, "U1", ACTION.digest(), clock.now())
    result = executor.execute(pid)
    assert result.status is ToolStatus.REFUSED and "(namespaces)" in result.summary
    assert cluster.calls == []
    # refused, not left "approved" (which Slack would show as executing for ever), and recorded
    refused = store.get(pid)
    assert refused is not None and refused.status is ProposalStatus.REFUSED
    assert refused.outcome.startswith("namespaces: namespace shop is not in any environment")
    assert executor.execute(pid).summary.startswith("refused by policy: namespaces:")
    assert [e.event for e in AuditLog(engine).entries()][-1] == "refused"


def test_a_failed_write_is_recorded_and_never_run_again(
    store: ProposalStore, sim: SimulatedCluster, clock: VirtualClock, engine
) -> None:  # type: ignore[no-untyped-def]
    cluster = RecordingCluster(sim, fail_real_writes=True)
    audit = AuditLog(engine)
    executor, pid = setup(store, cluster, sim, clock, audit)
    store.approve(pid, "U1", ACTION.digest(), clock.now())
    result = executor.execute(pid)
    again = executor.execute(pid)
    assert result.status is ToolStatus.FAILED
    assert "scale on shop/recommender failed: 503 from the API server" in result.summary
    assert store.get(pid).status is ProposalStatus.FAILED  # type: ignore[union-attr]
    assert again.status is ToolStatus.REFUSED and "already executed by U1" in again.summary
    assert cluster.calls == [("scale", 6, True), ("scale", 6, False)]
    assert [(e.event, e.result) for e in audit.entries()] == [
        ("started", ""),
        ("failed", result.summary),
    ]
