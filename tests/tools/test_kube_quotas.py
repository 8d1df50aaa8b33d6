"""Contract test of the Kubernetes adapter's read of a namespace's ResourceQuotas (the watch's
quota limits from the cluster), against kmock's emulated API server. The objects are shaped as
the API documents ResourceQuota (core/v1: ``spec.hard``, and ``status.hard`` / ``status.used``
written by the quota controller, quantities as strings)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

from bot.watch.findings import Target
from bot.watch.limits import QUOTA_API_ORIGIN, QuotaLimits
from tests.services.kube import KubeApi, kube_api  # noqa: F401  (fixture)
from tools.errors import PermissionDeniedError
from tools.kube import KubernetesCluster

GiB = 2.0**30


def quota(name: str, namespace: str, hard: dict[str, str], used: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {"hard": hard},
        "status": {"hard": hard, "used": used},
    }


@pytest.fixture
def cluster(kube_api: KubeApi) -> KubernetesCluster:  # noqa: F811
    kube_api.put(
        quota(
            "compute",
            "shop",
            {"requests.memory": "8Gi", "limits.cpu": "16", "pods": "40", "<b>x</b>": "lots"},
            {"requests.memory": "6Gi", "limits.cpu": "9500m", "pods": "31"},
        )
    )
    kube_api.put(quota("team", "shop", {"memory": "6Gi", "pods": "50"}, {"memory": "6Gi"}))
    kube_api.put(quota("other", "ml", {"pods": "2"}, {"pods": "1"}))
    configuration = k8s.Configuration(host=kube_api.url)
    configuration.retries = False
    return KubernetesCluster(k8s.ApiClient(configuration), name="kube:test")


def test_the_tightest_hard_limit_per_resource_is_read(cluster: KubernetesCluster) -> None:
    hard = cluster.resource_quotas("shop")
    assert hard == {
        "requests.memory": 8 * GiB,
        "memory": 6 * GiB,
        "limits.cpu": 16.0,
        "pods": 40.0,  # the tighter quota's; "lots" is not a quantity and is left out
    }
    assert cluster.resource_quotas("empty") == {}


def test_the_watch_gets_the_quota_limits_of_the_namespace(cluster: KubernetesCluster) -> None:
    found = QuotaLimits(cluster).limits(Target("shop", "checkout"), 0.0)
    assert {m: (v.value, v.origin) for m, v in found.items()} == {
        # requests.memory 8Gi and its short name memory 6Gi bound the same usage: the tighter
        "quota_requests_memory_bytes": (6 * GiB, QUOTA_API_ORIGIN),
        "quota_limits_cpu_cores": (16.0, QUOTA_API_ORIGIN),
        "quota_pods": (40.0, QUOTA_API_ORIGIN),
    }


def test_no_permission_to_list_quotas_is_no_limit_from_there(
    cluster: KubernetesCluster,
    kube_api: KubeApi,  # noqa: F811
) -> None:
    kube_api.fail("GET", 403)
    with pytest.raises(PermissionDeniedError):
        cluster.resource_quotas("shop")
    kube_api.fail("GET", 403)
    assert QuotaLimits(cluster).limits(Target("shop", "checkout"), 0.0) == {}
