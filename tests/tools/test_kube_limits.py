"""Contract test of the Kubernetes adapter's read of a workload's resource limits (the watch's
limits from the cluster), against kmock's emulated API server."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from bot.watch.findings import Target
from bot.watch.limits import CLUSTER_ORIGIN, ClusterLimits
from tests.services import k8s_objects as objects
from tests.services.kube import KubeApi, kube_api  # noqa: F401  (fixture)
from tools.errors import TargetNotFoundError
from tools.kube import KubernetesCluster

MiB = 2.0**20


@pytest.fixture
def cluster(kube_api: KubeApi) -> KubernetesCluster:  # noqa: F811
    limited = objects.deployment("checkout")
    containers = limited["spec"]["template"]["spec"]["containers"]
    containers[0]["resources"] = {"limits": {"memory": "512Mi", "cpu": "500m"}}
    containers.append(
        {
            "name": "sidecar",
            "image": "envoy:1",
            "resources": {"limits": {"memory": "1Gi", "cpu": "lots", "<b>x</b>": "1"}},
        }
    )
    kube_api.put(limited)
    kube_api.put(objects.deployment("frontend"))  # no limits at all
    configuration = k8s.Configuration(host=kube_api.url)
    configuration.retries = False
    return KubernetesCluster(k8s.ApiClient(configuration), name="kube:test")


def test_the_tightest_container_limit_of_the_pod_template_is_read(
    cluster: KubernetesCluster,
) -> None:
    limits = cluster.container_limits("shop", "checkout")
    assert limits["memory"] == 512 * MiB and limits["cpu"] == 0.5  # "lots" is not a quantity
    assert cluster.container_limits("shop", "frontend") == {}
    with pytest.raises(TargetNotFoundError):
        cluster.container_limits("shop", "payments")


def test_the_watch_forecasts_the_working_set_against_the_template_memory_limit(
    cluster: KubernetesCluster,
) -> None:
    limits = ClusterLimits(cluster)
    found = limits.limits(Target("shop", "checkout"), 0.0)
    assert {m: (v.value, v.origin) for m, v in found.items()} == {
        "memory_working_set_bytes": (512 * MiB, CLUSTER_ORIGIN)
    }
    assert limits.limits(Target("shop", "payments"), 0.0) == {}  # unknown: nothing from here
