"""Contract tests of the Kubernetes adapter against kmock's emulated API server: the requests it
sends (dry run first, patch types, bodies), what it makes of 403/404/409/429/5xx, its retries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from sqlalchemy import create_engine

from tests.services import k8s_objects as objects
from tests.services.kube import DEPLOYMENTS, KubeApi, kube_api  # noqa: F401  (fixture)
from tools.actions import Action, Principal, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.catalog import TOOLS, ToolContext
from tools.clock import VirtualClock
from tools.errors import (
    ConflictError,
    InvalidRequestError,
    PermissionDeniedError,
    TargetNotFoundError,
    TransientError,
)
from tools.guard import Guard
from tools.kube import RESTARTED_AT, KubernetesCluster
from tools.policy import load_policy
from tools.proposals import ProposalStore
from tools.retry import RetryPolicy
from tools.schema import upgraded
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow

NOW = 1_800_000_000.0


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def shop(kube_api: KubeApi) -> KubeApi:  # noqa: F811
    """shop/recommender at revision 2 (image 1.4.2) with revision 1 (1.4.1) behind it, pods with
    restarts, and a look-alike ReplicaSet owned by another Deployment."""
    dep = objects.deployment("recommender", image="shop/recommender:1.4.2", revision=2)
    kube_api.put(dep)
    kube_api.put(objects.replica_set(dep, 1, "shop/recommender:1.4.1", 0, "2027-01-14T10:00:00Z"))
    kube_api.put(objects.replica_set(dep, 2, "shop/recommender:1.4.2", 3, "2027-01-15T09:00:00Z"))
    stranger = objects.deployment("recommender-canary")
    stranger["metadata"]["uid"] = "uid-someone-else"
    odd = objects.replica_set(stranger, 1, "evil/image:1", 0, "2027-01-15T08:00:00Z")
    odd["metadata"]["labels"]["app"] = "recommender"
    odd["metadata"]["name"] = "recommender-canary-x"
    kube_api.put(odd)
    kube_api.put(objects.pod("recommender", "a1", restarts=4, last_reason="OOMKilled"))
    kube_api.put(objects.pod("recommender", "b2"))
    kube_api.put(objects.pod("checkout", "c3", restarts=9, last_reason="Error"))
    return kube_api


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def cluster(shop: KubeApi, sleeps: Sleeps) -> KubernetesCluster:
    configuration = k8s.Configuration(host=shop.url)
    configuration.retries = False
    return KubernetesCluster(
        k8s.ApiClient(configuration),
        name="kube:test",
        retry=RetryPolicy(attempts=3, initial_seconds=0.01, sleep=sleeps),
    )


def deployment(api: KubeApi) -> dict[str, Any]:
    return api.get(DEPLOYMENTS, "shop", "recommender")


def patches(api: KubeApi) -> list[tuple[str, str, str | None, Any]]:
    return [
        (r.url.path, r.headers.get("Content-Type", ""), r.params.get("dryRun"), r.data)
        for r in api.requests("PATCH")
    ]


def run(cluster: KubernetesCluster, sim: SimulatedCluster, tool: str, dry_run: bool, **params: Any):  # type: ignore[no-untyped-def]
    context = ToolContext(Backends(cluster, sim, sim), NOW)
    return TOOLS[tool].run(context, Action(tool, "shop", "recommender", params), dry_run)


def test_reads_status_rollouts_and_pod_restarts(
    cluster: KubernetesCluster, sim: SimulatedCluster
) -> None:
    info = cluster.get_deployment("shop", "recommender")
    assert (info.replicas, info.ready_replicas, info.revision) == (3, 3, 2)
    assert info.images == ("shop/recommender:1.4.2",)
    rollouts = cluster.recent_rollouts("shop", "recommender")
    assert [(r.revision, r.images) for r in rollouts] == [
        (2, ("shop/recommender:1.4.2",)),
        (1, ("shop/recommender:1.4.1",)),
    ]
    assert rollouts[0].labels == {"app": "recommender"}  # without Kubernetes' pod-template-hash
    restarts = run(cluster, sim, "pod_restarts", False)
    assert restarts.summary == (
        "pod restarts of shop/recommender: recommender-a1/recommender: 4 restarts, last OOMKilled "
        "(exit 137)"
    )


def test_lists_the_namespaces_deployments_and_statefulsets_as_its_workloads(
    shop: KubeApi, cluster: KubernetesCluster
) -> None:
    shop.put(objects.deployment("checkout"))
    shop.put(objects.stateful_set("redis"))
    shop.put(objects.deployment("elsewhere", namespace="other"))
    assert cluster.workloads("shop", limit=50) == ["checkout", "recommender", "redis"]
    assert cluster.workloads("shop", limit=2) == ["checkout", "recommender"]
    assert cluster.workloads("empty", limit=50) == []
    listed = [r.url.path for r in shop.requests("GET")]
    assert "/apis/apps/v1/namespaces/shop/deployments" in listed
    assert "/apis/apps/v1/namespaces/shop/statefulsets" in listed


def test_a_service_account_that_may_not_list_workloads_is_told_what_to_grant(
    shop: KubeApi, cluster: KubernetesCluster
) -> None:
    shop.fail("GET", 403)
    with pytest.raises(PermissionDeniedError, match=r"list deployments in shop.*rbac\.yaml"):
        cluster.workloads("shop", limit=50)


def test_scale_dry_runs_on_the_server_then_patches_the_scale_subresource(
    shop: KubeApi, cluster: KubernetesCluster, sim: SimulatedCluster
) -> None:
    preview = run(cluster, sim, "scale", True, replicas=6)
    assert preview.status is ToolStatus.DRY_RUN
    assert preview.summary == "scale deployment shop/recommender: 3 -> 6 replicas"
    assert deployment(shop)["spec"]["replicas"] == 3  # the server's dry run stored nothing
    done = run(cluster, sim, "scale", False, replicas=6)
    assert done.summary == "scaled deployment shop/recommender: 3 -> 6 replicas"
    assert deployment(shop)["spec"]["replicas"] == 6
    path = "/apis/apps/v1/namespaces/shop/deployments/recommender/scale"
    body = {"spec": {"replicas": 6}}
    assert patches(shop) == [
        (path, "application/merge-patch+json", "All", body),
        (path, "application/merge-patch+json", None, body),
    ]
    assert {r.params.get("fieldManager") for r in shop.requests("PATCH")} == {"medic"}


def test_restart_stamps_the_pod_template_like_kubectl_and_resends_the_same_stamp(
    shop: KubeApi, cluster: KubernetesCluster, sim: SimulatedCluster, sleeps: Sleeps
) -> None:
    shop.fail("PATCH", 503)
    result = run(cluster, sim, "restart", False)
    assert result.status is ToolStatus.SUCCEEDED
    annotations = deployment(shop)["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {RESTARTED_AT: "2027-01-15T08:00:00Z"}
    sent = [data for _, _, _, data in patches(shop)]
    assert len(sent) == 2 and sent[0] == sent[1]  # the retry sent the very same patch
    assert len(sleeps) == 1


def test_rollback_restores_the_previous_replicaset_template_and_names_both_revisions(
    shop: KubeApi, cluster: KubernetesCluster, sim: SimulatedCluster
) -> None:
    preview = run(cluster, sim, "rollback", True)
    assert preview.summary == (
        "roll back deployment shop/recommender from revision 2 (shop/recommender:1.4.2) "
        "to revision 1 (shop/recommender:1.4.1)"
    )
    assert deployment(shop)["spec"]["template"]["spec"]["containers"][0]["image"].endswith("1.4.2")
    done = run(cluster, sim, "rollback", False)
    assert done.status is ToolStatus.SUCCEEDED
    assert (done.details["from"], done.details["to"]) == (2, 1)
    # what the rollback put back is recognisable afterwards (settling an interrupted one)
    assert done.details["template"] == cluster.get_deployment("shop", "recommender").template
    template = deployment(shop)["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "shop/recommender:1.4.1"
    assert template["metadata"]["labels"] == {"app": "recommender"}  # no pod-template-hash
    [(_, content_type, _, patch), _] = patches(shop)
    assert content_type == "application/json-patch+json"
    assert patch[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "100"}


def test_rollback_without_an_earlier_revision_is_refused(
    shop: KubeApi, cluster: KubernetesCluster
) -> None:
    shop.put(objects.deployment("fresh", revision=1))
    with pytest.raises(InvalidRequestError, match="no earlier revision"):
        cluster.rollback("shop", "fresh")


def test_rollback_losing_a_race_is_a_conflict_not_an_overwrite(
    shop: KubeApi, cluster: KubernetesCluster
) -> None:
    shop.fail("PATCH", 409)
    with pytest.raises(ConflictError, match="changed meanwhile"):
        cluster.rollback("shop", "recommender")
    assert len(shop.requests("PATCH")) == 1


def test_rollback_whose_answer_was_lost_is_recognised_as_done(
    shop: KubeApi, cluster: KubernetesCluster, sleeps: Sleeps
) -> None:
    # The first PATCH is applied but answered 504; the resent PATCH then conflicts on the
    # resourceVersion it carries. Re-reading shows the target template: the rollback is done.
    shop.lose_next_answer()
    plan = cluster.rollback("shop", "recommender")
    assert (plan.from_revision, plan.to_revision) == (2, 1)
    assert len(shop.requests("PATCH")) == 2 and len(sleeps) == 1
    image = deployment(shop)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "shop/recommender:1.4.1"


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (403, PermissionDeniedError, "lacks this permission"),
        (404, TargetNotFoundError, "check the namespace and the name"),
        (409, ConflictError, "changed meanwhile"),
        (422, InvalidRequestError, "422"),
    ],
)
def test_client_errors_are_named_and_never_retried(
    shop: KubeApi, cluster: KubernetesCluster, status: int, error: type[Exception], message: str
) -> None:
    shop.fail("PATCH", status)
    with pytest.raises(error, match=message):
        cluster.scale("shop", "recommender", 6)
    assert len(shop.requests("PATCH")) == 1
    assert deployment(shop)["spec"]["replicas"] == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_backoff(
    shop: KubeApi, cluster: KubernetesCluster, sleeps: Sleeps, status: int
) -> None:
    shop.fail("PATCH", status, times=2)
    assert cluster.scale("shop", "recommender", 5) == 5
    assert len(shop.requests("PATCH")) == 3 and len(sleeps) == 2
    assert deployment(shop)["spec"]["replicas"] == 5


def test_persistent_server_errors_give_up_after_the_last_attempt(
    shop: KubeApi, cluster: KubernetesCluster
) -> None:
    shop.fail("PATCH", 503, times=5)
    with pytest.raises(TransientError, match="503"):
        cluster.scale("shop", "recommender", 5)
    assert len(shop.requests("PATCH")) == 3


def test_too_many_requests_waits_at_least_retry_after(
    shop: KubeApi, cluster: KubernetesCluster, sleeps: Sleeps
) -> None:
    shop.fail("PATCH", 429, **{"Retry-After": "2"})
    assert cluster.scale("shop", "recommender", 4) == 4
    assert sleeps and sleeps[0] >= 2


def test_missing_deployment_is_not_found(cluster: KubernetesCluster) -> None:
    with pytest.raises(TargetNotFoundError, match="404"):
        cluster.get_deployment("shop", "payments")


def test_unreachable_api_server_is_retried_then_reported(sleeps: Sleeps) -> None:
    from tests.services.binaries import free_port

    server = f"http://127.0.0.1:{free_port()}"
    configuration = k8s.Configuration(host=server)
    configuration.retries = False
    cluster = KubernetesCluster(
        k8s.ApiClient(configuration), retry=RetryPolicy(attempts=2, sleep=sleeps)
    )
    with pytest.raises(TransientError, match=f"cannot connect to the Kubernetes API at {server}"):
        cluster.get_deployment("shop", "recommender")
    assert len(sleeps) == 1


def test_proposal_shows_the_server_dry_run_and_approval_executes_it_once(
    shop: KubeApi, cluster: KubernetesCluster, sim: SimulatedCluster, tmp_path: Any
) -> None:
    engine = upgraded(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    proposals = ProposalStore(engine)
    workflow = RemediationWorkflow(
        proposals=proposals,
        guard=Guard(load_policy(), cluster, proposals),
        backends=Backends(cluster, sim, sim),
        clock=VirtualClock(NOW),
        audit=AuditLog(engine),
    )
    action = Action("scale", "shop", "recommender", {"replicas": 6})
    proposed = workflow.propose("INC-1", action, requested_by="medic:planner", source="test")
    assert proposed.result.status is ToolStatus.APPROVAL_REQUIRED
    assert proposed.proposal.preview == "scale deployment shop/recommender: 3 -> 6 replicas"
    assert [p[2] for p in patches(shop)] == ["All"]
    first = workflow.approve(proposed.proposal.id, Principal("cli:alice"), proposed.proposal.digest)
    second = workflow.approve(proposed.proposal.id, Principal("cli:bob"), proposed.proposal.digest)
    assert first.result.ok and second.result.summary.startswith("already executed by cli:alice")
    assert [p[2] for p in patches(shop)] == ["All", "All", None]
    events = [(e.event, e.actor) for e in workflow.audit.entries()]
    assert events == [
        ("proposed", "medic:planner"),
        ("approved", "cli:alice"),
        ("started", "cli:alice"),
        ("executed", "cli:alice"),
    ]
    assert json.loads(json.dumps(workflow.audit.entries()[0].params)) == {"replicas": 6}


def test_the_role_in_docker_grants_exactly_what_the_adapter_uses(
    shop: KubeApi, cluster: KubernetesCluster, sim: SimulatedCluster
) -> None:
    import yaml

    for tool in ("deployment_status", "recent_rollouts", "pod_restarts"):
        run(cluster, sim, tool, False)
    for tool, params in (("scale", {"replicas": 4}), ("restart", {}), ("rollback", {})):
        run(cluster, sim, tool, True, **params)
        run(cluster, sim, tool, False, **params)
    used = set()
    for request in list(shop.emulator):
        verb = {"GET": "get" if request.name else "list", "PATCH": "patch"}[request.method.value]
        resource = request.resource.plural + (
            f"/{request.subresource}" if request.subresource else ""
        )
        used.add((request.resource.group, resource, verb))
    path = Path(__file__).parents[2] / "docker" / "rbac.yaml"
    role = next(d for d in yaml.safe_load_all(path.read_text()) if d["kind"] == "Role")
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert used == granted
