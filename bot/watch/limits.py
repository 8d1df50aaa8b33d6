"""Where the watch learns the limits its forecasts head for, beside the configured ones:

- metrics that are already a share of their limit (memory working set / the container's memory
  limit, used / capacity of a disk, connections in use / pool size) head for 1.0;
- Prometheus knows the others: the container memory limit from kube-state-metrics
  (``kube_pod_container_resource_limits``), a volume's capacity from the kubelet, a connection
  pool's maximum from the pool's own metrics. The watch reads the usage with
  :data:`USAGE_QUERIES` and the limit with :data:`LIMIT_QUERIES`, through a
  :class:`~detectors.PrometheusMetricSource` and so within its bounds (response size, series,
  time).

- quotas: the namespace's ResourceQuota, its ``used`` against its ``hard`` per resource (pods,
  requests and limits of CPU and memory, storage, claims), both from kube-state-metrics
  (``kube_resourcequota``); the hard limits also from the Kubernetes API (:class:`QuotaLimits`),
  where kube-state-metrics does not export quotas; and what each workload of the namespace takes
  of it (:data:`CONSUMER_QUERIES`: pods, requests and limits per workload), so the heads-up
  names the services that fill it;
- node disks: the used share of each filesystem of the nodes the service's pods run on
  (``node_filesystem_avail_bytes`` / ``node_filesystem_size_bytes`` of node-exporter, joined to
  ``kube_pod_info``'s ``node`` on the ``instance`` label, as kube-prometheus and OpenShift label
  node-exporter's targets), heading for 1.0.

Configured limits win over discovered ones (the operator knows best); a discovered limit wins
over a share's 1.0 only for its own metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from bot.watch.findings import Limit, Target
from detectors import MetricSource, PartialMetricsError, Series

NODE_DISK = "node_filesystem_used_ratio"
SHARES: dict[str, str] = {
    "memory_working_set_ratio": "the working set is a share of the memory limit",
    "disk_usage_ratio": "the disk's used share",
    "db_pool_in_use_ratio": "the connection pool's used share",
    NODE_DISK: "the node filesystem's size (node_filesystem_size_bytes)",
}
_NS, _POD = 'namespace="{namespace}"', 'pod=~"{service}-.*"'
_PVC = 'persistentvolumeclaim=~"(.+-)?{service}(-.+)?"'
# A ResourceQuota's resource (and the short name it may be written with) -> the usage metric
# its hard limit bounds; the unit is the metric name's (bot.watch.render.amount).
QUOTA_RESOURCES: dict[str, str] = {
    "pods": "quota_pods",
    "requests.cpu": "quota_requests_cpu_cores",
    "cpu": "quota_requests_cpu_cores",
    "requests.memory": "quota_requests_memory_bytes",
    "memory": "quota_requests_memory_bytes",
    "limits.cpu": "quota_limits_cpu_cores",
    "limits.memory": "quota_limits_memory_bytes",
    "requests.storage": "quota_requests_storage_bytes",
    "persistentvolumeclaims": "quota_persistentvolumeclaims",
}


def _quota(metric: str, kind: str, pick: str) -> str:
    names = "|".join(r for r, m in QUOTA_RESOURCES.items() if m == metric)
    return f'{pick}(kube_resourcequota{{{_NS}, resource=~"{names}", type="{kind}"}})'


_REAL_FS = '{fstype!~"tmpfs|overlay|squashfs|ramfs|nsfs"}'  # real disks, not memory or layers
_SERVICE_NODES = (  # 1 per node running one of the service's pods, labelled as node-exporter is
    "max by (instance) (label_replace(kube_pod_info{" + _NS + ", " + _POD + '}, "instance", '
    '"$1", "node", "(.+)") * 0 + 1)'
)
# A pod's workload, as its name says: a Deployment's pod is NAME-TEMPLATEHASH-XXXXX, a
# StatefulSet's NAME-ORDINAL, a DaemonSet's or Job's NAME-XXXXX. A pod named otherwise keeps its
# own name. (kube_pod_owner names only the ReplicaSet, one join short of the Deployment.)
_WORKLOAD = (
    'label_replace(label_replace(label_replace({inner}, "workload", "$1", "pod", "(.+)"), '
    '"workload", "$1", "pod", "(.+)-[0-9]+"), '
    '"workload", "$1", "pod", "(.+?)(-[a-z0-9]{6,10})?-[a-z0-9]{5}")'
)
CONSUMERS_SUFFIX = ":by_workload"
MAX_CONSUMERS = 10  # workloads read per quota (the biggest); three are named in the heads-up


def _consumers(pick: str, inner: str) -> str:
    return (
        f"topk({MAX_CONSUMERS}, {pick} by (workload) (" + _WORKLOAD.replace("{inner}", inner) + "))"
    )


def _pod_resources(kind: str, resource: str) -> str:
    return _consumers(
        "sum",
        f"kube_pod_container_resource_{kind}" + "{" + _NS + f', resource="{resource}"' + "}",
    )


# What each workload of the namespace takes of a quota's resource (kube-state-metrics), so a
# quota's heads-up names the services that fill it, not only the namespace.
CONSUMER_QUERIES: dict[str, str] = {
    "quota_pods" + CONSUMERS_SUFFIX: _consumers("count", "kube_pod_info{" + _NS + "}"),
    "quota_requests_cpu_cores" + CONSUMERS_SUFFIX: _pod_resources("requests", "cpu"),
    "quota_requests_memory_bytes" + CONSUMERS_SUFFIX: _pod_resources("requests", "memory"),
    "quota_limits_cpu_cores" + CONSUMERS_SUFFIX: _pod_resources("limits", "cpu"),
    "quota_limits_memory_bytes" + CONSUMERS_SUFFIX: _pod_resources("limits", "memory"),
}
USAGE_QUERIES: dict[str, str] = {
    "memory_working_set_bytes": "max(container_memory_working_set_bytes"
    f'{{{_NS}, {_POD}, container!=""}})',
    "volume_used_bytes": f"max(kubelet_volume_stats_used_bytes{{{_NS}, {_PVC}}})",
    "db_pool_connections_used": "max(db_client_connections_usage"
    f'{{{_NS}, service="{{service}}", state="used"}})',
    NODE_DISK: f"max by (instance, mountpoint) ((1 - node_filesystem_avail_bytes{_REAL_FS} "
    f"/ node_filesystem_size_bytes{_REAL_FS}) * on (instance) group_left() {_SERVICE_NODES})",
    **{m: _quota(m, "used", "max") for m in dict.fromkeys(QUOTA_RESOURCES.values())},
    **CONSUMER_QUERIES,
}
LIMIT_QUERIES: dict[str, str] = {
    "memory_working_set_bytes": "min(kube_pod_container_resource_limits"
    f'{{{_NS}, {_POD}, resource="memory"}})',
    "volume_used_bytes": f"min(kubelet_volume_stats_capacity_bytes{{{_NS}, {_PVC}}})",
    "db_pool_connections_used": f'min(db_client_connections_max{{{_NS}, service="{{service}}"}})',
    **{m: _quota(m, "hard", "min") for m in dict.fromkeys(QUOTA_RESOURCES.values())},
}
QUOTA_ORIGIN = "the namespace's ResourceQuota (hard, kube_resourcequota)"
QUOTA_API_ORIGIN = "the namespace's ResourceQuota (hard, from the Kubernetes API)"
LIMIT_ORIGINS: dict[str, str] = {
    "memory_working_set_bytes": "the containers' memory limit (kube_pod_container_resource_limits)",
    "volume_used_bytes": "the volume's capacity (kubelet_volume_stats_capacity_bytes)",
    "db_pool_connections_used": "the pool's maximum (db_client_connections_max)",
    **{m: QUOTA_ORIGIN for m in QUOTA_RESOURCES.values()},
}
LOOKBACK = 900.0  # seconds of limit series read: the latest value is the limit


class LimitSource(Protocol):
    """The limits of one service's metrics at ``now`` (metric -> limit)."""

    def limits(self, target: Target, now: float) -> dict[str, Limit]: ...


class NoLimits:
    """Where nothing but the configured limits and the shares is known (the simulated cluster)."""

    def limits(self, target: Target, now: float) -> dict[str, Limit]:
        return {}


@runtime_checkable
class ContainerLimitsReader(Protocol):
    """A cluster that reads the resource limits of a workload's pod template
    (:meth:`tools.kube.KubernetesCluster.container_limits`)."""

    def container_limits(self, namespace: str, name: str) -> dict[str, float]: ...


# the resource limit of the pod template -> the usage metric it bounds
CLUSTER_LIMITS = {"memory": "memory_working_set_bytes"}
CLUSTER_ORIGIN = "the containers' memory limit in the Deployment's pod template"


class ClusterLimits:
    """Limits from the cluster itself: the pod template's memory limit bounds the working set.
    A workload the cluster does not know (or a cluster away) has none from here."""

    def __init__(self, cluster: ContainerLimitsReader) -> None:
        self._cluster = cluster

    def limits(self, target: Target, now: float) -> dict[str, Limit]:
        try:
            given = self._cluster.container_limits(target.namespace, target.service)
        except Exception:  # not a Deployment, or the API away: Prometheus may still know
            return {}
        return {
            metric: Limit(given[resource], CLUSTER_ORIGIN)
            for resource, metric in CLUSTER_LIMITS.items()
            if resource in given
        }


@runtime_checkable
class QuotaReader(Protocol):
    """A cluster that reads a namespace's ResourceQuotas' hard limits
    (:meth:`tools.kube.KubernetesCluster.resource_quotas`)."""

    def resource_quotas(self, namespace: str) -> dict[str, float]: ...


class QuotaLimits:
    """The namespace's ResourceQuota hard limits, read from the Kubernetes API, bound the usage
    metrics of :data:`QUOTA_RESOURCES` (their usage comes from Prometheus). A cluster away, or
    no permission to list quotas, gives none from here."""

    def __init__(self, cluster: QuotaReader) -> None:
        self._cluster = cluster

    def limits(self, target: Target, now: float) -> dict[str, Limit]:
        try:
            hard = self._cluster.resource_quotas(target.namespace)
        except Exception:  # away, or forbidden: Prometheus may still know
            return {}
        found: dict[str, Limit] = {}
        for resource, value in hard.items():
            metric = QUOTA_RESOURCES.get(resource)
            if metric is not None and (metric not in found or value < found[metric].value):
                found[metric] = Limit(value, QUOTA_API_ORIGIN)
        return found


class CombinedLimits:
    """The first source's limits, then what the next ones know besides."""

    def __init__(self, *sources: LimitSource) -> None:
        self._sources = sources

    def limits(self, target: Target, now: float) -> dict[str, Limit]:
        found: dict[str, Limit] = {}
        for source in self._sources:
            for metric, limit in source.limits(target, now).items():
                found.setdefault(metric, limit)
        return found


class PrometheusLimits:
    """Limits read from Prometheus (``source`` runs :data:`LIMIT_QUERIES`, or the operator's);
    the smallest last value of each metric's limit series (the tightest pod's). A query that
    fails costs only its own metric; Prometheus down raises MetricSourceError (one note)."""

    def __init__(self, source: MetricSource, origins: Mapping[str, str] = LIMIT_ORIGINS) -> None:
        self._source = source
        self._origins = origins

    def limits(self, target: Target, now: float) -> dict[str, Limit]:
        try:
            found = self._source.fetch(target.namespace, target.service, now - LOOKBACK, now)
        except PartialMetricsError as exc:
            found = exc.series
        return latest_limits(found, self._origins)


def latest_limits(series: Sequence[Series], origins: Mapping[str, str]) -> dict[str, Limit]:
    """The smallest positive last value per metric, as a limit."""
    tightest: dict[str, float] = {}
    for s in series:
        if len(s) == 0 or float(s.values[-1]) <= 0:
            continue
        value = float(s.values[-1])
        tightest[s.metric] = min(value, tightest.get(s.metric, value))
    return {
        metric: Limit(value, origins.get(metric, f"Prometheus ({metric})"))
        for metric, value in tightest.items()
    }


def limits_for(
    series: Sequence[Series], configured: Mapping[str, float], discovered: Mapping[str, Limit]
) -> dict[str, Limit]:
    """Every limit of the metrics in ``series``: configured, else discovered, else 1.0 for a
    share of its limit."""
    present = {s.metric for s in series}
    limits = {m: Limit(1.0, SHARES[m]) for m in present if m in SHARES}
    limits.update({m: v for m, v in discovered.items() if m in present})
    limits.update({m: Limit(v, "configured in watch.limits") for m, v in configured.items()})
    return limits
