"""Two Kubernetes clusters in one configuration, each an emulated API server (kmock) reached
through its own context of one kubeconfig: an alert labelled with a cluster is checked against
that cluster's API, and approving its proposal writes to that API alone - the other cluster's
API sees no write, also when the approval is replayed through the other cluster's workflow."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.alerts import manual_alert, parse_alerts
from bot.config import load_settings
from bot.errors import ConfigError
from bot.wiring import Wiring
from tests.bot.kube_shop import NAMESPACE, SERVICE, put_shop
from tests.services.kube import DEPLOYMENTS, KubeApi, running_kube_api
from tools.actions import Action
from tools.clock import SystemClock
from tools.proposals import ProposalStatus

POLICY = Path(__file__).parents[2] / "tools" / "default_policy.yaml"


def kubeconfig(path: Path, servers: dict[str, str]) -> Path:
    """One kubeconfig, one context per cluster (named like it), the current one neither."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers.items()],
                "users": [{"name": "medic", "user": {"token": "t0ken"}}],
                "contexts": [
                    {"name": f"ctx-{n}", "context": {"cluster": n, "user": "medic"}}
                    for n in servers
                ],
                "current-context": "ctx-elsewhere",
            }
        )
    )
    return path


@pytest.fixture
def apis() -> Iterator[dict[str, KubeApi]]:
    with running_kube_api() as a, running_kube_api() as b:
        now = time.time()
        put_shop(a, now)
        put_shop(b, now)
        yield {"a": a, "b": b}


def writes(api: KubeApi) -> list[str | None]:
    """The dryRun parameter of every PATCH the API received (None: a real write)."""
    return [r.params.get("dryRun") for r in api.requests("PATCH")]


def test_an_action_reaches_only_its_own_clusters_api(
    apis: dict[str, KubeApi], tmp_path: Path
) -> None:
    policy = yaml.safe_load(POLICY.read_text())
    policy["approvers"].append({"users": ["U1"]})
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    nowhere = {"prometheus_url": "http://127.0.0.1:9"}  # not read: no investigation here
    settings = load_settings(
        data_dir=tmp_path / "data",
        policy=tmp_path / "policy.yaml",
        kubeconfig=str(kubeconfig(tmp_path / "kubeconfig", {n: a.url for n, a in apis.items()})),
        clusters={
            "a": {"context": "ctx-a", "metrics": nowhere, "default_namespace": NAMESPACE},
            "b": {"context": "ctx-b", "metrics": nowhere, "default_namespace": NAMESPACE},
        },
        default_cluster="a",
    )
    clock = SystemClock()
    wiring = Wiring(settings)
    try:
        flow = wiring.flow(clock)
        routes = wiring.cluster_flows(clock)
        alert = manual_alert(SERVICE, NAMESPACE, clock.now(), {"cluster": "b"})
        [(incident, _)] = flow.intake(parse_alerts(alert))
        assert apis["b"].requests("GET") and not apis["a"].requests("GET")

        scale = Action("scale", NAMESPACE, SERVICE, {"replicas": 6})
        b_flow = routes.flow("b")
        proposal = b_flow.workflow.propose(
            incident.id, scale, requested_by="medic:planner", source="test"
        ).proposal
        assert proposal.cluster == "b" and proposal.status is ProposalStatus.PROPOSED
        assert proposal.preview.startswith("in cluster b: ")

        # Replayed through cluster a's workflow: refused, nothing sent to either API.
        forged = routes.flow("a").workflow.approve(proposal.id, "U1", proposal.digest)
        assert not forged.result.ok and forged.result.details["rule"] == "cluster"
        assert None not in writes(apis["b"]) and writes(apis["a"]) == []

        outcome = flow.decide(proposal.id, "U1", approve=True, digest=proposal.digest)
        assert outcome is not None and outcome.result.ok, outcome.result.summary
        assert writes(apis["b"]).count(None) == 1  # the one real write, to cluster b
        assert writes(apis["a"]) == []  # cluster a's API saw no write at all
        replicas = apis["b"].get(DEPLOYMENTS, NAMESPACE, SERVICE)
        assert replicas["spec"]["replicas"] == 6
    finally:
        wiring.close()


def test_one_cluster_only_may_be_the_pods_own(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only one cluster can be the one Medic runs in"):
        load_settings(
            clusters={"a": {"in_cluster": True}, "b": {"in_cluster": True}}, default_cluster="a"
        )


def test_a_cluster_that_cannot_be_reached_is_one_line_and_the_other_still_works(
    apis: dict[str, KubeApi], tmp_path: Path
) -> None:
    nowhere = {"prometheus_url": "http://127.0.0.1:9"}
    settings = load_settings(
        data_dir=tmp_path / "data",
        kubeconfig=str(kubeconfig(tmp_path / "kubeconfig", {"a": apis["a"].url})),
        clusters={
            "a": {"context": "ctx-a", "metrics": nowhere, "default_namespace": NAMESPACE},
            "gone": {"context": "ctx-gone", "metrics": nowhere, "default_namespace": NAMESPACE},
        },
        default_cluster="a",
    )
    clock = SystemClock()
    wiring = Wiring(settings)
    try:
        flow = wiring.flow(clock)
        alert = manual_alert(SERVICE, NAMESPACE, clock.now(), {"cluster": "gone"})
        with pytest.raises(ConfigError, match="ctx-gone") as refused:
            flow.intake(parse_alerts(alert))
        assert "\n" not in str(refused.value)
        assert flow.open_incidents() == []
        assert wiring.cluster_flows(clock).built() == ["a"]  # not cached: tried again next time
        [(incident, new)] = flow.intake(parse_alerts(manual_alert(SERVICE, NAMESPACE, clock.now())))
        assert new and incident.service == SERVICE
    finally:
        wiring.close()
