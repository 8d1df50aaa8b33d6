"""An action interrupted by a crash does not stay `executing` for ever: once it has run longer than
any execution can, its target is asked what it shows - the Kubernetes API (kmock), a real Redis,
a real Alertmanager, the simulated cluster - and the proposal is settled succeeded, failed or
unknown, audited in the hash chain and shown in its thread. The action is never sent again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from kubernetes import client as k8s
from sqlalchemy import Engine, create_engine

from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.harness import APPROVER, Medic
from tests.reliability.at_write import AtWrite, Killed, die
from tests.services.alertmanager import alertmanager_url  # noqa: F401  (fixture)
from tests.services.kube import DEPLOYMENTS, KubeApi, kube_api  # noqa: F401  (fixture)
from tests.services.redis import redis_url  # noqa: F401  (fixture)
from tests.tools.test_kube import shop  # noqa: F401  (fixture)
from tests.tools.test_redis_cache import fill
from tools.actions import Action, Principal, ToolStatus
from tools.alertmanager import AlertmanagerSilences
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.guard import Guard
from tools.kube import RESTARTED_AT, KubernetesCluster
from tools.policy import load_policy
from tools.proposals import Proposal, ProposalStatus, ProposalStore
from tools.redis_cache import RedisCache
from tools.retry import RetryPolicy
from tools.schema import upgraded
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow, Settled

AFTER = 600.0  # reconcile.after_seconds
SCALE = Action("scale", "shop", "recommender", {"replicas": 6})
RESTART = Action("restart", "shop", "recommender", {})
ROLLBACK = Action("rollback", "shop", "recommender", {})
PURGE = Action("purge_cache", "shop", "recommender", {"pattern": "recommender:*"})
SILENCE = Action(
    "silence",
    "shop",
    "recommender",
    {
        "matchers": {"alertname": "Latency", "namespace": "shop", "service": "recommender"},
        "duration_minutes": 30,
    },
)


def at_write(backends: Backends, tool: str, **around: Callable[[], None]) -> Backends:
    """``backends`` with ``around`` (before=, after=) the real write of ``tool``."""
    role = {"purge_cache": "cache", "silence": "silences"}.get(tool, "cluster")
    method = {"purge_cache": "purge"}.get(tool, tool)
    wrapped = AtWrite(getattr(backends, role), method, **around)
    return Backends(**{**vars(backends), role: wrapped})


def remediation(engine: Engine, backends: Backends, clock: VirtualClock) -> RemediationWorkflow:
    """The guarded workflow as a freshly started Medic process builds it."""
    proposals = ProposalStore(engine)
    return RemediationWorkflow(
        proposals=proposals,
        guard=Guard(load_policy(), backends.cluster, proposals),
        backends=backends,
        clock=clock,
        audit=AuditLog(engine),
    )


def interrupt(
    engine: Engine, backends: Backends, clock: VirtualClock, action: Action, after_write: bool
) -> Proposal:
    """``action`` proposed, approved by cli:alice, and its process killed right before or right
    after the real write: it is left executing."""
    dies = {"after": die} if after_write else {"before": die}
    flow = remediation(engine, at_write(backends, action.tool, **dies), clock)
    proposal = flow.propose("INC-1", action, requested_by="medic:planner", source="t").proposal
    with pytest.raises(Killed):
        flow.approve(proposal.id, Principal("cli:alice"), proposal.digest)
    left = flow.proposals.get(proposal.id)
    assert left is not None and left.status is ProposalStatus.EXECUTING
    return left


def settle_later(engine: Engine, backends: Backends, clock: VirtualClock) -> list[Settled]:
    """A Medic started after the crash, once ``AFTER`` has passed, settles what it finds."""
    clock.sleep(AFTER + 1)
    return remediation(engine, backends, clock).settle_interrupted(AFTER)


def check_settled(
    engine: Engine, settled: list[Settled], status: ProposalStatus, finding: str
) -> Proposal:
    [done] = settled
    proposal = done.proposal
    assert proposal.status is status and finding in done.finding, done.finding
    assert proposal.outcome.startswith("interrupted; ")
    log = AuditLog(engine)
    assert log.verify().ok
    assert [e.event for e in log.entries()] == [
        "proposed",
        "approved",
        "started",
        "reconciled",
    ]
    last = log.entries()[-1]
    assert (last.actor, last.result) == ("medic:reconcile", f"{status.value}: {done.finding}")
    return proposal


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return upgraded(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))


def kube_backends(api: KubeApi, attempts: int, **options: Any) -> Backends:
    """Kubernetes (kmock) as `medic` reaches it, without waiting between attempts."""
    configuration = k8s.Configuration(host=api.url)
    configuration.retries = False
    cluster = KubernetesCluster(
        k8s.ApiClient(configuration),
        name="kube:test",
        retry=RetryPolicy(attempts=attempts, initial_seconds=0.01, sleep=lambda _s: None),
        **options,
    )
    return Backends(cluster, cluster, cluster)  # type: ignore[arg-type]  (only the cluster used)


@pytest.fixture
def kube(shop: KubeApi) -> Backends:  # noqa: F811
    return kube_backends(shop, attempts=2)


def writes(api: KubeApi) -> int:
    return len([r for r in api.requests("PATCH") if r.params.get("dryRun") is None])


@pytest.mark.parametrize(
    ("action", "after_write", "status", "finding"),
    [
        (SCALE, True, ProposalStatus.SUCCEEDED, "shop/recommender has 6 replicas, as the scale"),
        (SCALE, False, ProposalStatus.FAILED, "has 3 replicas, not 6: the scale did not happen"),
        (RESTART, True, ProposalStatus.SUCCEEDED, "carries the restart stamp 2027-01-15T08:00"),
        (RESTART, False, ProposalStatus.FAILED, "stamp is absent, not 2027-01-15T08:00:00Z"),
        (ROLLBACK, True, ProposalStatus.SUCCEEDED, "runs the pod template of revision 1 again"),
        (ROLLBACK, False, ProposalStatus.FAILED, "shop/recommender is still at revision 2"),
    ],
    ids=["scale-done", "scale-not-done", "restart-done", "restart-not-done", "rollback-done",
         "rollback-not-done"],
)  # fmt: skip
def test_an_interrupted_kubernetes_action_is_settled_from_the_deployment(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,
    clock: VirtualClock,  # at 2027-01-15T08:00:00Z
    action: Action,
    after_write: bool,
    status: ProposalStatus,
    finding: str,
) -> None:
    interrupt(engine, kube, clock, action, after_write)
    sent = writes(shop)
    assert sent == (1 if after_write else 0)
    check_settled(engine, settle_later(engine, kube, clock), status, finding)
    assert writes(shop) == sent  # never sent again
    assert settle_later(engine, kube, clock) == []  # settled once


def test_a_restart_by_someone_else_since_leaves_the_outcome_unknown(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,
    clock: VirtualClock,
) -> None:
    interrupt(engine, kube, clock, RESTART, after_write=False)
    deployment = shop.get(DEPLOYMENTS, "shop", "recommender")
    deployment["spec"]["template"]["metadata"]["annotations"] = {RESTARTED_AT: "2027-01-15T09:00Z"}
    shop.put(deployment)
    settled = settle_later(engine, kube, clock)
    check_settled(engine, settled, ProposalStatus.UNKNOWN, "was restarted again since")


def test_an_unreachable_target_is_asked_again_on_the_next_pass(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,
    clock: VirtualClock,
) -> None:
    interrupt(engine, kube, clock, SCALE, after_write=True)
    shop.fail("GET", 503, times=2)  # both attempts of the one read
    assert settle_later(engine, kube, clock) == []
    assert ProposalStore(engine).interrupted(clock.now())[0].status is ProposalStatus.EXECUTING
    check_settled(
        engine, settle_later(engine, kube, clock), ProposalStatus.SUCCEEDED, "has 6 replicas"
    )


def test_a_running_execution_is_left_alone_until_it_has_run_too_long(
    kube: Backends,
    engine: Engine,
    clock: VirtualClock,
) -> None:
    interrupt(engine, kube, clock, SCALE, after_write=True)
    clock.sleep(AFTER - 1)  # still within what an execution may take
    assert remediation(engine, kube, clock).settle_interrupted(AFTER) == []


@pytest.mark.parametrize("after_write", [True, False], ids=["purged", "not-purged"])
def test_an_interrupted_purge_is_settled_from_the_keys(
    redis_url: str,  # noqa: F811
    sim: SimulatedCluster,
    clock: VirtualClock,
    engine: Engine,
    after_write: bool,
) -> None:
    client = redis.Redis.from_url(redis_url)
    fill(client)
    backends = Backends(sim, RedisCache(client, batch=100), sim)
    interrupt(engine, backends, clock, PURGE, after_write)
    settled = settle_later(engine, backends, clock)
    if after_write:
        check_settled(engine, settled, ProposalStatus.SUCCEEDED, "0 keys match recommender:*")
    else:
        check_settled(
            engine, settled, ProposalStatus.UNKNOWN, "1234 keys match recommender:* now, 1234 did"
        )
        assert client.exists("recommender:recs:u-00001")  # not purged by the settling either


@pytest.mark.parametrize("after_write", [True, False], ids=["created", "not-created"])
def test_an_interrupted_silence_is_found_by_its_proposal_or_not(
    alertmanager_url: str,  # noqa: F811
    sim: SimulatedCluster,
    engine: Engine,
    after_write: bool,
) -> None:
    backends = Backends(sim, sim, AlertmanagerSilences.from_url(alertmanager_url))
    clock = VirtualClock(time.time())
    interrupt(engine, backends, clock, SILENCE, after_write)
    settled = settle_later(engine, backends, clock)
    silences = httpx.get(f"{alertmanager_url}/api/v2/silences").json()
    assert len(silences) == (1 if after_write else 0)  # never created a second time
    if after_write:
        check_settled(engine, settled, ProposalStatus.SUCCEEDED, f"silence {silences[0]['id']}")
    else:
        check_settled(engine, settled, ProposalStatus.FAILED, "holds no silence of this proposal")


def test_an_interrupted_action_on_the_simulated_cluster(
    sim: SimulatedCluster, clock: VirtualClock, engine: Engine
) -> None:
    backends = Backends(sim, sim, sim)
    interrupt(engine, backends, clock, SCALE, after_write=True)
    check_settled(engine, settle_later(engine, backends, clock), ProposalStatus.SUCCEEDED,
                  "shop/recommender has 6 replicas")  # fmt: skip


def test_a_simulated_cluster_that_ended_with_its_process_leaves_the_outcome_unknown(
    sim: SimulatedCluster, clock: VirtualClock, engine: Engine
) -> None:
    interrupt(engine, Backends(sim, sim, sim), clock, SCALE, after_write=True)
    clock.sleep(5)
    later = SimulatedCluster(sim.scenario, clock)  # the next `medic` process's own world
    settled = settle_later(engine, Backends(later, later, later), clock)
    check_settled(engine, settled, ProposalStatus.UNKNOWN, "ended with the process running it")


def approved_but_not_started(engine: Engine, backends: Backends, clock: VirtualClock) -> Proposal:
    """Killed right after the approval was stored, before the execution began."""
    flow = remediation(engine, backends, clock)
    proposal = flow.propose("INC-1", SCALE, requested_by="medic:planner", source="t").proposal
    now = clock.now()
    logged = flow.audit.entry(at=now, actor="cli:alice", event="approved", decision="allowed")
    assert flow.proposals.approve(proposal.id, "cli:alice", proposal.digest, now, logged).ok
    return proposal


def test_an_approval_that_never_started_runs_once_while_it_is_valid(
    sim: SimulatedCluster, clock: VirtualClock, engine: Engine
) -> None:
    backends = Backends(sim, sim, sim)
    approved_but_not_started(engine, backends, clock)
    clock.sleep(60)
    flow = remediation(engine, backends, clock)
    [done] = flow.settle_interrupted(30)
    assert done.ran_now and done.proposal.status is ProposalStatus.SUCCEEDED
    assert sim.get_deployment("shop", "recommender").replicas == 6
    assert flow.settle_interrupted(30) == []
    events = [(e.event, e.actor) for e in AuditLog(engine).entries()]
    assert events[1:] == [("approved", "cli:alice"), ("started", "cli:alice"),
                          ("executed", "cli:alice")]  # fmt: skip


def test_an_approval_that_never_started_and_expired_is_refused_not_run(
    sim: SimulatedCluster, clock: VirtualClock, engine: Engine
) -> None:
    backends = Backends(sim, sim, sim)
    approved_but_not_started(engine, backends, clock)
    clock.sleep(901)  # past approval_ttl_seconds
    [done] = remediation(engine, backends, clock).settle_interrupted(AFTER)
    assert done.proposal.status is ProposalStatus.REFUSED
    assert done.finding.startswith("not done: approved by cli:alice, but Medic stopped before")
    assert sim.get_deployment("shop", "recommender").replicas == 3
    assert [e.event for e in AuditLog(engine).entries()][-1] == "refused"


def test_an_interrupted_action_is_shown_in_its_thread_after_a_restart(
    start_medic: Callable[..., Medic],  # noqa: F811
    sim: SimulatedCluster,
    clock: VirtualClock,
) -> None:
    medic = start_medic()
    medic.alert(medic.demo_alert())
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    flow = medic.service.threads.flow
    real = flow.workflow.backends
    flow.workflow.executor._backends = at_write(real, "scale", after=die)
    medic.click(diagnosis, diagnosis.button("medic_approve", "scale shop/recommender"), APPROVER)
    medic.settle()  # the click's work died with the "process"
    assert sim.get_deployment("shop", "recommender").replicas == 6
    assert "Approved by" not in diagnosis.all_text()  # nothing said: the process was gone

    clock.sleep(AFTER + 1)
    restarted = start_medic()  # the same data directory and cluster: settled as it starts
    root = medic.root()

    def note() -> list[Any]:
        return [m for m in medic.slack.thread(root.ts) if "was interrupted" in m.text]

    deadline = time.monotonic() + 60
    while not note():
        assert time.monotonic() < deadline, "the thread was not told"
        time.sleep(0.05)
    restarted.settle()
    text = diagnosis.all_text()
    assert f"Approved by <@{APPROVER}>" in text
    assert "interrupted; shop/recommender has 6 replicas, as the scale set" in text
    [told] = note()
    assert told.text.startswith(
        ":white_check_mark: `scale shop/recommender replicas=6` was interrupted when Medic "
        "stopped, after it took effect: shop/recommender has 6 replicas, as the scale set."
    )
    events = [e.event for e in restarted.service.threads.flow.workflow.audit.entries()]
    assert events.count("reconciled") == 1 and events.count("executed") == 0
    assert ToolStatus.SUCCEEDED.value in [
        p.status.value for p in restarted.service.threads.flow.proposals.for_incident("INC-0001")
    ]


def test_medic_act_settles_what_an_interrupted_medic_act_left_and_audit_shows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli.act import _workflow
    from bot.config import load_settings
    from tests.bot.test_cli_act import medic

    monkeypatch.setenv("MEDIC_RECONCILE__AFTER_SECONDS", "0.001")
    killed = _workflow(
        load_settings(cluster="sim"), "input-size-surge", needs_cluster=True
    )  # as `medic act` builds it
    killed.executor._backends = at_write(killed.backends, "scale", after=die)
    proposal = killed.propose("manual", SCALE, requested_by="cli:alice", source="cli").proposal
    with pytest.raises(Killed):
        killed.approve(proposal.id, "cli:alice", proposal.digest)

    code, out, err = medic("act", "deployment_status", "--target", "shop/recommender",
                           "--cluster", "sim")  # fmt: skip
    assert code == 0 and out.startswith("deployment shop/recommender: ")
    assert err == (
        "medic: settled an interrupted action: scale shop/recommender replicas=6 -> unknown: it "
        "ran on a simulated cluster that ended with the process running it\n"
    )
    code, out, _ = medic("audit", "list")
    assert code == 0
    [line] = [line for line in out.splitlines() if " reconciled " in line]
    assert "medic:reconcile" in line and "-> unknown: it ran on a simulated cluster" in line
    assert medic("act", "deployment_status", "--target", "shop/recommender", "--cluster",
                 "sim")[2] == ""  # settled once  # fmt: skip
