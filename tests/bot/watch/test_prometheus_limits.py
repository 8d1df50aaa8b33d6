"""Limits discovered from a real Prometheus: the containers' memory limit that kube-state-metrics
exports, against the working set the kubelet exports - no limit configured anywhere."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from bot.watch.checks import ForecastCheck
from bot.watch.findings import Concern, Target
from bot.watch.limits import LIMIT_QUERIES, USAGE_QUERIES, PrometheusLimits
from bot.watch.runner import Watch
from detectors import PrometheusMetricSource
from tests.services.prometheus import openmetrics_gauges, running_prometheus

STEP = 15.0
POINTS = 480  # two hours
NOW = time.time() // STEP * STEP - 60.0
MiB = 2.0**20
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]]


def _samples() -> Samples:
    t = NOW - STEP * np.arange(POINTS)[::-1]
    rng = np.random.default_rng(3)
    samples: Samples = {}
    for pod, limit, grows in (
        ("checkout-7d9f-a", 512 * MiB, True),
        ("checkout-7d9f-b", 1024 * MiB, False),
    ):
        base = (("container", "app"), ("namespace", "shop"), ("pod", pod))
        samples[("kube_pod_container_resource_limits", (*base, ("resource", "memory")))] = [
            (float(ts), limit) for ts in t
        ]
        leak = np.where(t > NOW - 3600, (t - (NOW - 3600)) / 60 * 2 * MiB, 0.0) if grows else 0
        used = 200 * MiB + leak + rng.normal(0, 2 * MiB, POINTS)
        samples[("container_memory_working_set_bytes", base)] = list(
            zip(t.tolist(), np.asarray(used).tolist(), strict=True)
        )
    return samples


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_prometheus(
        tmp_path_factory.mktemp("prometheus"), openmetrics_gauges(_samples())
    ) as url:
        yield url


def test_the_memory_limit_comes_from_kube_state_metrics(prometheus: str) -> None:
    client = httpx.Client(base_url=prometheus, timeout=5)
    limits = PrometheusLimits(PrometheusMetricSource(client, LIMIT_QUERIES))
    found = limits.limits(Target("shop", "checkout"), NOW)
    assert found["memory_working_set_bytes"].value == 512 * MiB  # the tighter pod's
    assert "kube_pod_container_resource_limits" in found["memory_working_set_bytes"].origin
    assert limits.limits(Target("shop", "frontend"), NOW) == {}


def test_a_growing_working_set_is_a_heads_up_against_the_discovered_limit(prometheus: str) -> None:
    client = httpx.Client(base_url=prometheus, timeout=5)
    watch = Watch(
        metrics=PrometheusMetricSource(client, USAGE_QUERIES),
        checks=[ForecastCheck(horizon=4 * 3600, trends=(3600.0, 1200.0))],
        lookback=7200,
        limits=PrometheusLimits(PrometheusMetricSource(client, LIMIT_QUERIES)),
    )
    result = watch.run([Target("shop", "checkout")], NOW)
    assert result.notes == []
    (finding,) = result.findings
    assert (finding.concern, finding.subject) == (Concern.LIMIT, "memory_working_set_bytes")
    assert finding.limit is not None and finding.limit.value == 512 * MiB
    # 320 MiB now, 2 MiB a minute: about an hour and a half left
    assert finding.eta_seconds is not None and 80 * 60 < finding.eta_seconds < 110 * 60
