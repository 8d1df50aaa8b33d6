"""The wiring: which sources each cluster gets, and what it refuses before connecting anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.wiring import build_flow
from bot.wiring.sources import UpToNow, kube_sources, sim_sources
from detectors import PrometheusFeatureSource, Series, TimeLeft
from tools.alertmanager import AlertmanagerSilences
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.redis_cache import RedisCache
from tools.sim import SimulatedCluster


class RecordingSource:
    def __init__(self) -> None:
        self.windows: list[tuple[float, float]] = []

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[Series]:
        self.windows.append((start, end))
        return []


def test_recorded_metrics_are_read_up_to_now_never_beyond(clock: VirtualClock) -> None:
    """An alert that began a moment ago asks for a window reaching a minute past now; Prometheus
    has nothing there yet, and its rates would fade into a false drop in traffic."""
    recorded = RecordingSource()
    now = clock.now()
    UpToNow(recorded, clock).fetch("shop", "recommender", now - 3600, now + 60)
    UpToNow(recorded, clock).fetch("shop", "recommender", now - 3600, now - 60)
    assert recorded.windows == [(now - 3600, now), (now - 3600, now - 60)]


def test_a_cluster_is_never_chosen_silently(clock: VirtualClock, sim: SimulatedCluster) -> None:
    with pytest.raises(ConfigError, match="choose a cluster explicitly"):
        build_flow(load_settings(), clock, sim=sim)


def test_sim_reads_its_own_metrics_unless_told_prometheus(
    clock: VirtualClock, sim: SimulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not isinstance(sim_sources(load_settings(), sim, clock).metrics, UpToNow)
    monkeypatch.setenv("MEDIC_METRICS__SOURCE", "prometheus")
    with pytest.raises(ConfigError, match=r"set metrics\.prometheus_url"):
        sim_sources(load_settings(), sim, clock)
    monkeypatch.setenv("MEDIC_METRICS__PROMETHEUS_URL", "http://prometheus:9090")
    assert isinstance(sim_sources(load_settings(), sim, clock).metrics, UpToNow)


def test_kube_takes_its_namespace_from_config_and_needs_credentials(
    clock: VirtualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIC_METRICS__PROMETHEUS_URL", "http://prometheus:9090")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no Kubernetes credentials"):
        kube_sources(load_settings(cluster="kube"), clock)
    (tmp_path / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'https://10.0.0.1:6443'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    sources = kube_sources(load_settings(cluster="kube"), clock)
    assert sources.default_namespace == "default"
    assert sources.backends.cluster.name == "kube:https://10.0.0.1:6443"
    assert not sources.seed_samples  # a real cluster's memory starts empty
    assert isinstance(sources.features, PrometheusFeatureSource)  # ML services' live inputs
    monkeypatch.setenv("MEDIC_DEFAULT_NAMESPACE", "shop")
    assert kube_sources(load_settings(cluster="kube"), clock).default_namespace == "shop"


def test_sim_keeps_a_configured_redis_and_alertmanager(
    clock: VirtualClock, sim: SimulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`medic serve --cluster sim` (sim_sources) and `medic act` (sim_backends) alike."""
    assert sim_sources(load_settings(), sim, clock).backends == Backends(sim, sim, sim)
    monkeypatch.setenv("MEDIC_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("MEDIC_ALERTMANAGER_URL", "http://127.0.0.1:1")
    backends = sim_sources(load_settings(), sim, clock).backends
    assert backends.cluster is sim
    assert isinstance(backends.cache, RedisCache)
    assert isinstance(backends.silences, AlertmanagerSilences)
