"""Limits the watch discovers in a real Prometheus, none configured: the namespace's
ResourceQuota (kube-state-metrics' ``kube_resourcequota``, used against hard; the services that
take most of it named) and the disks of
the nodes the service's pods run on (node-exporter's avail / size, joined to ``kube_pod_info``
on the node) - each a forecast of the time to exhaustion. A filesystem in memory (tmpfs) and a
node the service does not run on are not its limits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from bot.watch.checks import ForecastCheck
from bot.watch.findings import Concern, Target
from bot.watch.limits import (
    LIMIT_QUERIES,
    NODE_DISK,
    QUOTA_ORIGIN,
    SHARES,
    USAGE_QUERIES,
    PrometheusLimits,
)
from bot.watch.render import finding_line
from bot.watch.runner import Watch
from detectors import PrometheusMetricSource
from tests.services.prometheus import openmetrics_gauges, running_prometheus

STEP = 15.0
POINTS = 480  # two hours
GiB = 2.0**30
Labels = tuple[tuple[str, str], ...]
Samples = dict[tuple[str, Labels], list[tuple[float, float]]]


def _ramp(t: np.ndarray, start: float, per_minute: float) -> np.ndarray:
    """Flat for the first hour, then ``per_minute`` a minute over the last hour."""
    hour_ago = t[-1] - 3600
    return start + np.where(t > hour_ago, (t - hour_ago) / 60 * per_minute, 0.0)


def _samples(now: float) -> Samples:
    t = now - STEP * np.arange(POINTS)[::-1]
    rng = np.random.default_rng(5)
    samples: Samples = {}

    def put(name: str, labels: Labels, values: np.ndarray | float) -> None:
        series = np.broadcast_to(np.asarray(values, dtype=float), t.shape)
        samples[(name, labels)] = list(zip(t.tolist(), series.tolist(), strict=True))

    for pod, node in (("checkout-7d9f-a", "node-a"), ("frontend-5c4b-x", "node-b")):
        put("kube_pod_info", (("namespace", "shop"), ("node", node), ("pod", pod)), 1.0)
    quota = (("namespace", "shop"), ("resourcequota", "compute"))
    put("kube_resourcequota", (*quota, ("resource", "requests.memory"), ("type", "hard")), 8 * GiB)
    # 4 GiB requested, then 34 MiB more a minute: 6 GiB now, 8 GiB in about an hour
    memory = _ramp(t, 4 * GiB, 2 * GiB / 60) + rng.normal(0, 0.01 * GiB, POINTS)
    put("kube_resourcequota", (*quota, ("resource", "requests.memory"), ("type", "used")), memory)
    # what each pod requests of it now: checkout's two pods 2 GiB each, frontend's 1.5 GiB, the
    # database StatefulSet's pod 0.5 GiB
    for pod, requested in (
        ("checkout-7d9f5c8b6d-x2x4z", 2 * GiB),
        ("checkout-7d9f5c8b6d-k8s9q", 2 * GiB),
        ("frontend-5c4b9d7f8-q7w2e", 1.5 * GiB),
        ("orders-db-0", 0.5 * GiB),
        # and two small ones, not named in the heads-up
        ("cart-6f7d8c9b5d-p2k9m", 0.25 * GiB),
        ("search-0", 0.125 * GiB),
    ):
        where = (("container", "app"), ("namespace", "shop"), ("pod", pod))
        put("kube_pod_container_resource_requests", (*where, ("resource", "memory")), requested)
    put("kube_resourcequota", (*quota, ("resource", "pods"), ("type", "hard")), 40.0)
    put("kube_resourcequota", (*quota, ("resource", "pods"), ("type", "used")), 12.0)

    for node, fstype, mount, size, avail, per_minute in (
        # checkout's node: 100 GiB, 40 free, then 0.25 GiB a minute: 25 free now, 100 min left
        ("node-a", "ext4", "/var/lib/kubelet", 100 * GiB, 40 * GiB, -0.25 * GiB),
        # in memory, about to fill: not a disk
        ("node-a", "tmpfs", "/run", 2 * GiB, 1 * GiB, -0.016 * GiB),
        # another service's node, filling faster: not checkout's
        ("node-b", "ext4", "/var/lib/kubelet", 100 * GiB, 60 * GiB, -0.9 * GiB),
    ):
        fs = (("device", "/dev/x"), ("fstype", fstype), ("instance", node), ("mountpoint", mount))
        put("node_filesystem_size_bytes", fs, size)
        free = np.maximum(_ramp(t, avail, per_minute), 0.0)
        put("node_filesystem_avail_bytes", fs, free)
    return samples


@pytest.fixture(scope="module")
def now() -> float:
    """The last sample's time: taken when the module's Prometheus starts, not when the module
    is imported. `medic watch` reads up to the real now, and a loaded CI run once spent 25
    minutes between collecting this module and running it: the samples had ended long before."""
    return time.time() // STEP * STEP - 60.0


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, now: float) -> Iterator[str]:
    with running_prometheus(
        tmp_path_factory.mktemp("prometheus"), openmetrics_gauges(_samples(now))
    ) as url:
        yield url


def test_the_quota_hard_limits_come_from_kube_state_metrics(prometheus: str, now: float) -> None:
    client = httpx.Client(base_url=prometheus, timeout=5)
    found = PrometheusLimits(PrometheusMetricSource(client, LIMIT_QUERIES)).limits(
        Target("shop", "checkout"), now
    )
    assert found["quota_requests_memory_bytes"].value == 8 * GiB
    assert found["quota_pods"].value == 40
    assert found["quota_pods"].origin == QUOTA_ORIGIN


def test_a_filling_quota_and_a_filling_node_disk_are_forecast_to_exhaustion(
    prometheus: str, now: float
) -> None:
    client = httpx.Client(base_url=prometheus, timeout=5)
    watch = Watch(
        metrics=PrometheusMetricSource(client, USAGE_QUERIES),
        checks=[ForecastCheck(horizon=4 * 3600, trends=(3600.0, 1200.0))],
        lookback=7200,
        limits=PrometheusLimits(PrometheusMetricSource(client, LIMIT_QUERIES)),
    )
    result = watch.run([Target("shop", "checkout")], now)
    assert result.notes == []
    found = {f.subject: f for f in result.findings}
    assert set(found) == {"quota_requests_memory_bytes", NODE_DISK}  # the pods quota is steady
    assert all(f.concern is Concern.LIMIT for f in found.values())

    memory = found["quota_requests_memory_bytes"]
    assert memory.limit is not None and memory.limit.value == 8 * GiB
    assert memory.eta_seconds is not None and 50 * 60 < memory.eta_seconds < 75 * 60

    disk = found[NODE_DISK]
    assert disk.limit is not None and disk.limit.origin == SHARES[NODE_DISK]
    assert 0.7 < disk.level < 0.8  # node-a's disk, 75% used (not tmpfs, not node-b)
    assert disk.eta_seconds is not None and 85 * 60 < disk.eta_seconds < 120 * 60
    # the heads-up says which node and mount
    assert "node_filesystem_used_ratio (instance=node-a, mountpoint=/var/lib/kubelet)" in (
        finding_line(disk)
    )


def test_a_filling_quota_names_the_services_that_take_it(prometheus: str, now: float) -> None:
    client = httpx.Client(base_url=prometheus, timeout=5)
    watch = Watch(
        metrics=PrometheusMetricSource(client, USAGE_QUERIES),
        checks=[ForecastCheck(horizon=4 * 3600, trends=(3600.0, 1200.0))],
        lookback=7200,
        limits=PrometheusLimits(PrometheusMetricSource(client, LIMIT_QUERIES)),
    )
    result = watch.run([Target("shop", "frontend")], now)
    (memory,) = [f for f in result.findings if f.subject == "quota_requests_memory_bytes"]
    # per service (a Deployment's pods together, a StatefulSet's by its name), biggest first
    assert memory.consumers == (
        ("checkout", 4 * GiB),
        ("frontend", 1.5 * GiB),
        ("orders-db", 0.5 * GiB),
    )
    assert memory.consumers_more == 2  # cart and search
    line = finding_line(memory)
    assert (
        "What takes most of it: checkout 4.0 GiB, frontend 1.5 GiB, orders-db 512.0 MiB "
        "and 2 more (of" in line
    )


def test_medic_watch_json_names_what_takes_the_quota(prometheus: str) -> None:
    """`medic watch --once --json` carries what the Slack heads-up says of a quota: the biggest
    services taking it, and how many more there are."""
    env = {"MEDIC_METRICS__SOURCE": "prometheus", "MEDIC_METRICS__PROMETHEUS_URL": prometheus}
    result = CliRunner().invoke(
        app,
        ["watch", "--once", "--cluster", "sim", "--service", "shop/frontend", "--json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    (quota,) = [f for f in summary["findings"] if f["subject"] == "quota_requests_memory_bytes"]
    assert quota["consumers"] == [
        {"service": "checkout", "amount": 4 * GiB},
        {"service": "frontend", "amount": 1.5 * GiB},
        {"service": "orders-db", "amount": 0.5 * GiB},
    ]
    assert quota["consumers_more"] == 2
