"""A real-looking shop for end-to-end tests on `cluster: kube`: what Prometheus holds (counters,
a latency histogram, a request-size summary and Redis memory, as the usual exporters write them,
so the shipped default PromQL queries apply) and what the Kubernetes API serves (a Deployment with
its ReplicaSets and Pods, and the pods' logs), both with a payload-size surge in the last minutes.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tests.services import k8s_objects as objects
from tests.services.kube import KubeApi

NAMESPACE = "shop"
SERVICE = "recommender"
PODS = ("7d9f-a1", "7d9f-b2", "7d9f-c3")
STEP = 15.0
HISTORY = 2 * 3600.0
LIVE = 20 * 60.0
SURGE_MINUTES = 12.0  # the payload surge began this long before "now"
BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
REQUESTS_PER_SECOND = 50.0


def _labels(**extra: str) -> str:
    labels = {**extra, "namespace": NAMESPACE, "service": SERVICE}
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def shop_openmetrics(now: float) -> str:
    """The shop's metrics at 15 s: two hours up to ``now``, and on for ``LIVE`` seconds, as the
    scrapes of a live Prometheus would go on while the tests run. In the surge, requests carry
    three times the payload, latency (log-normal, sigma 0.35) quadruples, the cache's memory
    triples; the request rate stays flat."""
    rng = np.random.default_rng(11)
    present = now // STEP * STEP
    times = np.arange(present - HISTORY, present + LIVE, STEP)
    surge = times >= now - 60 * SURGE_MINUTES
    n = REQUESTS_PER_SECOND * STEP * (1 + rng.normal(0, 0.03, len(times)))
    median = np.where(surge, 0.32, 0.08) * np.exp(rng.normal(0, 0.04, len(times)))
    payload = np.where(surge, 6000.0, 2000.0) * (1 + rng.normal(0, 0.03, len(times)))
    cache = np.where(surge, 6.0e8, 2.0e8) * (1 + rng.normal(0, 0.01, len(times)))

    served = np.cumsum(n * 0.998)
    failed = np.cumsum(n * 0.002)
    count = np.cumsum(n)
    latency_sum = np.cumsum(n * median * math.exp(0.35**2 / 2))
    size_sum = np.cumsum(n * payload)
    share = {le: np.array([_normal_cdf(math.log(le / m) / 0.35) for m in median]) for le in BUCKETS}
    cumulative = {le: np.cumsum(n * share[le]) for le in BUCKETS}

    def sample(name: str, labels: str, value: float, t: float) -> str:
        return f"{name}{{{labels}}} {value:.6f} {t:.3f}"

    def rows(name: str, labels: str, values: np.ndarray) -> list[str]:
        return [sample(name, labels, v, t) for t, v in zip(times, values, strict=True)]

    lines = ["# TYPE http_requests counter"]
    lines += rows("http_requests_total", _labels(code="200"), served)
    lines += rows("http_requests_total", _labels(code="500"), failed)
    lines.append("# TYPE http_request_duration_seconds histogram")
    for i, t in enumerate(times):  # one metric point (every bucket, count, sum) per timestamp
        name = "http_request_duration_seconds"
        for le in BUCKETS:
            lines.append(sample(f"{name}_bucket", _labels(le=f"{le:g}"), cumulative[le][i], t))
        lines.append(sample(f"{name}_bucket", _labels(le="+Inf"), count[i], t))
        lines.append(sample(f"{name}_count", _labels(), count[i], t))
        lines.append(sample(f"{name}_sum", _labels(), latency_sum[i], t))
    lines.append("# TYPE http_request_size_bytes summary")
    for i, t in enumerate(times):
        lines.append(sample("http_request_size_bytes_count", _labels(), count[i], t))
        lines.append(sample("http_request_size_bytes_sum", _labels(), size_sum[i], t))
    lines.append("# TYPE redis_memory_used_bytes gauge")
    lines += rows("redis_memory_used_bytes", _labels(), cache)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def pod_log(pod: int, now: float, since_seconds: float | None) -> str:
    """What ``kubectl logs --timestamps`` shows for one pod: requests served every 20 s for the
    last 100 minutes; in the surge, warnings about oversized payloads and cache entries."""
    rng = np.random.default_rng(pod)
    first = now - 100 * 60 if since_seconds is None else now - since_seconds
    lines = []
    for t in np.arange(now - 100 * 60 + 7 * pod, now, 20.0):
        if t < first:
            continue
        user = int(rng.integers(1000, 9999))
        surging = t >= now - 60 * SURGE_MINUTES
        ms = int(rng.normal(330 if surging else 85, 10))
        lines.append(f"{_stamp(t)} INFO GET /recommendations user={user} served in {ms} ms")
        if surging:
            size = int(rng.integers(5800, 6400))
            lines.append(
                f"{_stamp(t + 1)} WARN request payload {size} bytes exceeds soft limit 4096 bytes"
            )
            lines.append(
                f"{_stamp(t + 2)} WARN cache entry recommender:user:{user} is {size * 8} bytes, "
                f"evicting {int(rng.integers(5, 20))} older entries"
            )
    return "".join(f"{line}\n" for line in lines)


def put_shop(api: KubeApi, now: float) -> None:
    """shop/recommender (3 replicas, revision 2 rolled out two days ago) with its three pods,
    whose logs the API serves (``sinceSeconds`` honoured)."""
    deployment = objects.deployment(SERVICE, NAMESPACE, 3, "shop/recommender:1.4.2", 2)
    api.put(deployment)
    for revision, version, replicas, days in ((1, "1.4.1", 0, 9), (2, "1.4.2", 3, 2)):
        created = datetime.fromtimestamp(now - days * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        image = f"shop/recommender:{version}"
        api.put(objects.replica_set(deployment, revision, image, replicas, created))
    for index, suffix in enumerate(PODS):
        api.put(objects.pod(SERVICE, suffix, NAMESPACE))

        def logs(request: Any, index: int = index) -> str:
            since = request.params.get("sinceSeconds")
            return pod_log(index, now, float(since) if since else None)

        api.emulator[f"get /api/v1/namespaces/{NAMESPACE}/pods/{SERVICE}-{suffix}/log"] << logs


def write_kubeconfig(path: Path, server: str) -> Path:
    """A kubeconfig whose current context talks to ``server`` with a bearer token."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "shop", "cluster": {"server": server}}],
                "users": [{"name": "medic", "user": {"token": "medic-token"}}],
                "contexts": [{"name": "shop", "context": {"cluster": "shop", "user": "medic"}}],
                "current-context": "shop",
            }
        )
    )
    return path


def write_config(path: Path, **settings: Any) -> Path:
    """A MEDIC_CONFIG for the shop: verification at once (Prometheus's data does not move)."""
    config = {"default_namespace": NAMESPACE, "verification": {"delay_seconds": 0}, **settings}
    path.write_text(yaml.safe_dump(config))
    return path
