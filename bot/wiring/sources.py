"""What one cluster gives an investigation - its backends, metrics, logs and the namespace of a
service named without one - for the simulated cluster or for Kubernetes with Prometheus and pod
logs. Configuration is checked before anything connects."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bot import messages
from bot.config import LogsSettings, Settings
from bot.diagnosis.origins import CallGraph, Directory
from bot.errors import ConfigError, InputError
from bot.wiring.backends import kube_api_client, kube_backends, kube_cluster, sim_backends
from detectors import (
    InMemoryMetricSource,
    MetricSource,
    PrometheusFeatureSource,
    PrometheusMetricSource,
    Series,
    TimeLeft,
    choose_step,
)
from detectors.features import FeatureSource
from knowledge.logs import InMemoryLogSource, LogLine, LogSource
from tools.backends import Backends
from tools.clock import Clock
from tools.registry import ModelRegistry, TrainingPipeline
from tools.sim import SCENARIOS, SCRAPE_INTERVAL, SimulatedCluster


@dataclass(frozen=True)
class ClusterSources:
    """What one cluster gives an investigation: its backends (reads and actions), its metrics, its
    logs, the namespace of a service named without one, and whether the memory starts from the
    sample incidents (written for the simulated shop; a real cluster's memory starts empty)."""

    backends: Backends
    metrics: MetricSource
    logs: LogSource
    default_namespace: str
    seed_samples: bool
    call_graph: CallGraph | None = None  # who calls whom, where the cluster can tell
    directories: tuple[Directory, ...] = ()  # who else names the namespace's services
    # the model registry, where models are retrained, and ML services' live input histograms
    # (filled in by Wiring: see bot/wiring/registry.py)
    registry: ModelRegistry | None = None
    training: TrainingPipeline | None = None
    features: FeatureSource | None = None


def sim_metric_source(sim: SimulatedCluster, max_points: int) -> InMemoryMetricSource:
    """The simulated cluster's own metrics, sampled like Prometheus: every scrape interval, or
    coarser so that a series has at most ``max_points`` points."""
    return InMemoryMetricSource(
        lambda ns, svc, start, end: [
            Series.of(s.metric, s.timestamps, s.values, s.labels)
            for s in sim.metrics(
                ns, svc, start, end, step=choose_step(start, end, SCRAPE_INTERVAL, max_points)
            )
        ],
        max_points,
    )


class UpToNow:
    """Recorded metrics end at the present: a window reaching past ``clock.now()`` (an alert that
    began a moment ago) is cut there. Read beyond it, a rate() fades as its window empties, which
    the detectors would rightly report as a drop in traffic."""

    def __init__(self, source: MetricSource, clock: Clock) -> None:
        self._source = source
        self._clock = clock

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[Series]:
        return self._source.fetch(
            namespace, service, start, min(end, self._clock.now()), time_left=time_left
        )


def prometheus_source(
    settings: Settings, clock: Clock, missing: str = messages.PROMETHEUS_URL_REQUIRED
) -> MetricSource:
    """The Prometheus metric source of ``metrics``; ``missing`` says what to do without a URL."""
    return UpToNow(prometheus_server(settings, clock, missing), clock)


def prometheus_server(
    settings: Settings, clock: Clock, missing: str = messages.PROMETHEUS_URL_REQUIRED
) -> PrometheusMetricSource:
    """Prometheus as ``metrics`` configures it, both for series and for the services it has
    series of (over the longest window an investigation reads)."""
    m = settings.metrics
    if not m.prometheus_url:
        raise ConfigError(missing)
    client = httpx.Client(base_url=m.prometheus_url, timeout=m.timeout_seconds)
    return PrometheusMetricSource(
        client,
        m.effective_queries(),
        m.step_seconds,
        m.max_points,
        breakdowns=m.breakdowns,
        max_response_bytes=m.max_response_bytes,
        max_series=m.max_series,
        now=clock.now,
        workloads_lookback=60.0 * settings.investigation.max_window_minutes,
    )


def prometheus_features(settings: Settings) -> PrometheusFeatureSource:
    """ML services' live feature histograms from the Prometheus ``metrics`` configures, read
    within the same response bound (``model_input_feature_bucket``, ``model_prediction_bucket``)."""
    m = settings.metrics
    if not m.prometheus_url:
        raise ConfigError(messages.PROMETHEUS_URL_REQUIRED)
    return PrometheusFeatureSource(
        httpx.Client(base_url=m.prometheus_url, timeout=m.timeout_seconds),
        max_features=settings.investigation.model.max_features,
        max_response_bytes=m.max_response_bytes,
    )


def log_source(logs: LogsSettings, max_lines: int, own: LogSource) -> LogSource:
    """The log source ``logs`` chooses: Loki, Elasticsearch/OpenSearch, or the cluster's ``own``
    (its pod logs, the simulation's) when it names none or ``pods``. At most ``logs.max_lines``
    lines per service, else ``max_lines`` (the investigation's). Nothing connects here."""
    if logs.source not in ("loki", "elasticsearch") or not logs.url:
        return own
    most = logs.max_lines or max_lines
    client = log_store_client(logs)
    if logs.source == "loki":
        from knowledge.loki_logs import LokiLabels, LokiLogSource

        return LokiLogSource(
            client,
            labels=LokiLabels(**logs.labels.model_dump()),
            max_lines=most,
            page_lines=min(logs.page_lines, 5000),  # Loki's default max_entries_limit_per_query
            max_response_bytes=logs.max_response_bytes,
            slices=logs.slices,
        )
    from knowledge.elastic_logs import ElasticFields, ElasticsearchLogSource

    return ElasticsearchLogSource(
        client,
        logs.index,
        fields=ElasticFields(**logs.fields.model_dump()),
        max_lines=most,
        page_lines=logs.page_lines,
        max_response_bytes=logs.max_response_bytes,
        slices=logs.slices,
    )


def log_store_client(logs: LogsSettings) -> httpx.Client:
    """An HTTP client for the log store at ``logs.url``: its authentication (basic, bearer
    token or Elasticsearch API key) and Loki's tenant header."""
    headers = {"X-Scope-OrgID": logs.tenant} if logs.tenant else {}
    if logs.token:
        headers["Authorization"] = f"Bearer {logs.token.get_secret_value()}"
    elif logs.api_key:
        headers["Authorization"] = f"ApiKey {logs.api_key.get_secret_value()}"
    auth = (
        httpx.BasicAuth(logs.username, logs.password.get_secret_value() if logs.password else "")
        if logs.username
        else None
    )
    return httpx.Client(
        base_url=str(logs.url), headers=headers, auth=auth, timeout=logs.timeout_seconds
    )


def sim_log_source(sim: SimulatedCluster) -> InMemoryLogSource:
    return InMemoryLogSource(
        lambda ns, svc, start, end: [
            LogLine(line.timestamp, line.message, line.level, line.pod)
            for line in sim.logs(ns, svc, start, end)
        ]
    )


def simulated_cluster(scenario: str, clock: Clock) -> SimulatedCluster:
    """The simulated cluster playing ``scenario`` (one of tools.sim.SCENARIOS)."""
    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {scenario!r} (known: {', '.join(SCENARIOS)})")
    return SimulatedCluster(SCENARIOS[scenario], clock)


def default_namespace(settings: Settings, sim: SimulatedCluster | None) -> str:
    """The namespace of a service named without one: configured, else the simulated shop's, else
    Kubernetes' own ``default``."""
    return settings.default_namespace or (sim.scenario.namespace if sim else "default")


def sim_sources(settings: Settings, sim: SimulatedCluster, clock: Clock) -> ClusterSources:
    """The simulated cluster; its own metrics unless ``metrics.source`` is prometheus."""
    prometheus = (
        prometheus_server(settings, clock) if settings.metrics.source == "prometheus" else None
    )
    return ClusterSources(
        backends=sim_backends(settings, sim),
        metrics=UpToNow(prometheus, clock)
        if prometheus
        else sim_metric_source(sim, settings.metrics.max_points),
        logs=log_source(settings.logs, settings.investigation.max_log_lines, sim_log_source(sim)),
        default_namespace=default_namespace(settings, sim),
        seed_samples=True,
        call_graph=sim.call_graph,
        directories=(prometheus,) if prometheus else (),
    )


def kube_sources(settings: Settings, clock: Clock) -> ClusterSources:
    """Kubernetes for deployments, pod logs and actions; Prometheus for metrics (required: the
    cluster has no metric store of its own). Configuration is checked before anything connects."""
    from kubernetes.client import AppsV1Api, CoreV1Api

    from knowledge.kube_logs import KubernetesLogSource

    if settings.metrics.source == "cluster":
        raise ConfigError(messages.KUBE_HAS_NO_METRICS)
    prometheus = prometheus_server(settings, clock, messages.KUBE_PROMETHEUS_REQUIRED)
    api = kube_api_client(settings)
    return ClusterSources(
        backends=kube_backends(settings, kube_cluster(settings, api)),
        metrics=UpToNow(prometheus, clock),
        logs=log_source(
            settings.logs,
            settings.investigation.max_log_lines,
            KubernetesLogSource(
                CoreV1Api(api),
                AppsV1Api(api),
                now=clock.now,
                max_lines=settings.investigation.max_log_lines,
            ),
        ),
        default_namespace=default_namespace(settings, None),
        seed_samples=False,
        directories=(prometheus,),
        features=prometheus_features(settings),
    )
