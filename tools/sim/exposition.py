"""The simulated shop as a Prometheus target: its metrics under the names and labels Medic's
default PromQL reads (``bot.config.metrics.DEFAULT_QUERIES``), so a real Prometheus can scrape
the present and be backfilled with the past, and an investigation runs real PromQL on them.

Each simulated series becomes what an instrumented service and the usual exporters would expose:

- ``request_rate`` and ``error_ratio``: counter ``http_requests_total{namespace, service, code}``
  (code 200 and 500);
- ``latency_p95_ms``: histogram ``http_request_duration_seconds{namespace, service, le}``, each
  scrape interval's requests spread log-normally with that p95, on log-spaced buckets fine enough
  for ``histogram_quantile`` to read the p95 back within a bucket's width;
- ``request_payload_bytes``: summary ``http_request_size_bytes{namespace, service}`` (sum/count);
- ``cpu_utilization_pct``: counter ``container_cpu_usage_seconds_total{namespace, pod}`` and gauge
  ``kube_pod_container_resource_limits{namespace, pod, resource="cpu"}`` (one core per pod), as
  cAdvisor and kube-state-metrics expose them;
- ``cache_memory_bytes``: gauge ``redis_memory_used_bytes{namespace, service}`` (redis_exporter);
- any other simulated metric: gauge ``medic_sim_<metric>{namespace, service}``, read with a
  ``metrics.queries`` entry.

Counters count from the start of the replayed history, so the backfilled past and the scraped
present are one series. Rendering is prometheus-client's (its collector, registry and both text
formats), not hand-written. Pure over the simulated cluster; the server is the CLI's.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_text
from prometheus_client.registry import Collector, CollectorRegistry
from scipy.special import ndtr

from tools.sim.cluster import STEP, SimulatedCluster

LATENCY_SIGMA = 0.5  # spread of ln(latency) within one scrape interval
Z95 = 1.6448536269514722  # the standard normal's 95th percentile
BUCKET_RATIO = 1.5
BUCKETS = tuple(round(0.005 * BUCKET_RATIO**i, 6) for i in range(22))  # 5 ms .. ~25 s
ERROR_CODE, OK_CODE = "500", "200"
CPU_LIMIT_CORES = 1.0
DEFAULT_HISTORY_SECONDS = 3 * 3600.0
MAPPED = {
    "request_rate",
    "error_ratio",
    "latency_p95_ms",
    "request_payload_bytes",
    "cpu_utilization_pct",
    "cache_memory_bytes",
}


class _Replay:
    """One service's simulated series from the start of the history, with the counters they
    imply accumulated step by step."""

    def __init__(self, sim: SimulatedCluster, service: str, start: float, end: float) -> None:
        ns = sim.scenario.namespace
        series = {s.metric: s for s in sim.metrics(ns, service, start, end)}
        self.service = service
        self.timestamps = next(iter(series.values())).timestamps if series else np.array([])
        self.values = {name: s.values for name, s in series.items()}
        self.pods = [f"{service}-sim-{i}" for i in range(sim.get_deployment(ns, service).replicas)]

    def _get(self, metric: str, default: float = 0.0) -> np.ndarray:
        return self.values.get(metric, np.full_like(self.timestamps, default))

    def requests(self) -> np.ndarray:
        """Requests per scrape interval."""
        return np.asarray(np.maximum(self._get("request_rate"), 0.0) * STEP, dtype=float)

    def request_counts(self) -> dict[str, np.ndarray]:
        errors = np.clip(self._get("error_ratio"), 0.0, 1.0)
        return {
            OK_CODE: np.cumsum(self.requests() * (1 - errors)),
            ERROR_CODE: np.cumsum(self.requests() * errors),
        }

    def latency(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cumulative bucket counts (time x bucket), count and sum of the latency histogram."""
        p95 = np.maximum(self._get("latency_p95_ms", 100.0), 0.1) / 1000.0
        mu = np.log(p95) - Z95 * LATENCY_SIGMA
        edges = np.log(np.array(BUCKETS))
        share = np.asarray(ndtr((edges[None, :] - mu[:, None]) / LATENCY_SIGMA), dtype=float)
        n = self.requests()
        # OpenMetrics counts observations: whole numbers (rounding a running total keeps it
        # non-decreasing, over time and over the buckets)
        buckets = np.round(np.cumsum(share * n[:, None], axis=0))
        total = np.cumsum(n * np.exp(mu + LATENCY_SIGMA**2 / 2))
        return buckets, np.round(np.cumsum(n)), total

    def payload(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.requests()
        return np.cumsum(n), np.cumsum(n * np.maximum(self._get("request_payload_bytes"), 0.0))

    def cpu_seconds_per_pod(self) -> np.ndarray:
        pct = np.clip(self._get("cpu_utilization_pct"), 0.0, None)
        return np.cumsum(pct / 100.0 * CPU_LIMIT_CORES * STEP)


def _points(replay: _Replay, latest: bool) -> Iterator[tuple[int, float | None]]:
    """(index, timestamp) of the samples to expose: every one, or the latest without one."""
    count = len(replay.timestamps)
    if latest:
        if count:
            yield count - 1, None
        return
    for i in range(count):
        yield i, float(replay.timestamps[i])


def shop_families(replays: Iterable[_Replay], namespace: str, latest: bool) -> list[Metric]:
    """The metric families of the replayed services: every sample with its timestamp (history),
    or each series' latest value without one (a scrape)."""
    replays = list(replays)
    requests = CounterMetricFamily(
        "http_requests", "HTTP requests served.", labels=["namespace", "service", "code"]
    )
    latency = HistogramMetricFamily(
        "http_request_duration_seconds",
        "HTTP request latency.",
        labels=["namespace", "service"],
    )
    size = SummaryMetricFamily(
        "http_request_size_bytes", "HTTP request body size.", labels=["namespace", "service"]
    )
    cpu = CounterMetricFamily(
        "container_cpu_usage_seconds",
        "CPU time used by the container.",
        labels=["namespace", "pod", "container"],
    )
    limits = GaugeMetricFamily(
        "kube_pod_container_resource_limits",
        "Resource limits of the pod's container.",
        labels=["namespace", "pod", "container", "resource", "unit"],
    )
    redis = GaugeMetricFamily(
        "redis_memory_used_bytes", "Memory used by Redis.", labels=["namespace", "service"]
    )
    others: dict[str, GaugeMetricFamily] = {}
    for r in replays:
        svc = [namespace, r.service]
        points = list(_points(r, latest))
        for code, counted in r.request_counts().items():
            _add(requests, [*svc, code], counted, points)
        buckets, count, total = r.latency()
        for i, ts in points:
            pairs = [(_le(b), float(buckets[i, k])) for k, b in enumerate(BUCKETS)]
            pairs.append(("+Inf", float(count[i])))
            latency.add_metric(svc, pairs, float(total[i]), timestamp=ts)
        sizes, payload = r.payload()
        for i, ts in points:
            size.add_metric(svc, round(sizes[i]), float(payload[i]), timestamp=ts)
        used = r.cpu_seconds_per_pod()
        for pod in r.pods:
            _add(cpu, [namespace, pod, r.service], used, points)
            limit = np.full_like(used, CPU_LIMIT_CORES)
            _add(limits, [namespace, pod, r.service, "cpu", "core"], limit, points)
        if "cache_memory_bytes" in r.values:
            _add(redis, svc, r.values["cache_memory_bytes"], points)
        for metric in sorted(set(r.values) - MAPPED):
            family = others.setdefault(metric, _other(metric))
            _add(family, svc, r.values[metric], points)
    return [requests, latency, size, cpu, limits, redis, *others.values()]


def _add(
    family: CounterMetricFamily | GaugeMetricFamily,
    labels: list[str],
    values: np.ndarray,
    points: list[tuple[int, float | None]],
) -> None:
    for i, ts in points:
        family.add_metric(labels, float(values[i]), timestamp=ts)


def _other(metric: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        f"medic_sim_{metric}", f"The simulated shop's {metric}.", labels=["namespace", "service"]
    )


def _le(bound: float) -> str:
    return repr(float(bound))


class ShopCollector(Collector):
    """The shop's metrics as of each scrape: counters accumulated since ``history_start``."""

    def __init__(self, sim: SimulatedCluster, history_start: float) -> None:
        self._sim = sim
        self._start = history_start

    def replays(self, end: float) -> list[_Replay]:
        sim = self._sim
        names = sim.workloads(sim.scenario.namespace, 1000)
        return [_Replay(sim, name, self._start, end) for name in names]

    def collect(self) -> Iterable[Metric]:
        now = self._sim.clock.now()
        return shop_families(self.replays(now + STEP), self._sim.scenario.namespace, latest=True)


class _HistoryCollector(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def write_history(collector: ShopCollector, sim: SimulatedCluster, path: Path) -> int:
    """Write the replayed history (from the collector's start to now) as OpenMetrics text for
    ``promtool tsdb create-blocks-from openmetrics``, atomically (a reader waiting for the file
    never sees half of it); the number of bytes."""
    families = shop_families(
        collector.replays(sim.clock.now()), sim.scenario.namespace, latest=False
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_HistoryCollector(families))
    text = openmetrics_text(registry)  # type: ignore[no-untyped-call]
    path = path.expanduser()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text)
        Path(tmp).chmod(0o644)  # mkstemp's 0600 would keep it from a promtool run as another user
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(text)


def history_start(now: float, seconds: float) -> float:
    """The first replayed sample's time: ``seconds`` before ``now``, on the scrape grid."""
    return math.floor((now - seconds) / STEP) * STEP
