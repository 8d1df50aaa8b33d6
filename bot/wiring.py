"""Wiring: build the incident flow from settings, a cluster and a clock. The only place that knows
which concrete adapter sits behind each interface: the simulated cluster, or Kubernetes with
Prometheus, pod logs, Redis and Alertmanager."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from chromadb.api import ClientAPI
from sqlalchemy import Engine

from bot import messages
from bot.config import Settings
from bot.database import prepare_data_dir, state_engine
from bot.diagnosis.corrections import CorrectionStore
from bot.diagnosis.investigation import Investigator
from bot.diagnosis.signals import Glossary
from bot.errors import ConfigError, InputError
from bot.flow import IncidentFlow
from bot.incidents import IncidentStore
from bot.llm.model import ChatModel, load_chat_model
from bot.planners.base import CandidatePlanner
from bot.planners.combine import Planner
from bot.planners.llm import LLMPlanner
from bot.planners.memory import MemoryPlanner
from bot.planners.rollback import ChangePlanner
from bot.planners.runbooks import RunbookPlanner, load_runbooks
from detectors import (
    InMemoryMetricSource,
    MetricSource,
    PrometheusMetricSource,
    Series,
    TimeLeft,
    choose_step,
)
from knowledge.embeddings import MiniLMEmbedding, model_version
from knowledge.logs import InMemoryLogSource, LogLine, LogSource
from knowledge.memory import IncidentMemory
from knowledge.samples import sample_incidents
from knowledge.store import connect_chroma, open_chroma
from knowledge.template_state import state_path
from knowledge.vector_cache import VectorCache
from tools.audit import AuditLog
from tools.backends import (
    Backends,
    CacheBackend,
    ClusterBackend,
    NoCluster,
    NotConfigured,
    SilenceBackend,
)
from tools.clock import Clock
from tools.errors import BackendUnavailableError
from tools.guard import Guard
from tools.langchain_tools import structured_tools
from tools.policy import load_policy
from tools.proposals import ProposalStore
from tools.sim import SCENARIOS, SCRAPE_INTERVAL, SimulatedCluster
from tools.workflow import RemediationWorkflow

VECTORS = "vectors.db"  # the embedding cache in the data directory


if TYPE_CHECKING:
    from kubernetes.client import ApiClient


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
    m = settings.metrics
    if not m.prometheus_url:
        raise ConfigError(missing)
    client = httpx.Client(base_url=m.prometheus_url, timeout=m.timeout_seconds)
    source = PrometheusMetricSource(
        client,
        m.effective_queries(),
        m.step_seconds,
        m.max_points,
        breakdowns=m.breakdowns,
        max_response_bytes=m.max_response_bytes,
        max_series=m.max_series,
    )
    return UpToNow(source, clock)


def sim_log_source(sim: SimulatedCluster) -> InMemoryLogSource:
    return InMemoryLogSource(
        lambda ns, svc, start, end: [
            LogLine(line.timestamp, line.message, line.level, line.pod)
            for line in sim.logs(ns, svc, start, end)
        ]
    )


def sim_backends(settings: Settings, sim: SimulatedCluster) -> Backends:
    """The simulated cluster for deployments and actions on them; for purge_cache and silence a
    configured Redis and Alertmanager (a real service named in the settings is never ignored),
    else the simulation's own."""
    return Backends(
        cluster=sim, cache=cache_backend(settings, sim), silences=silence_backend(settings, sim)
    )


def cache_backend(settings: Settings, otherwise: CacheBackend) -> CacheBackend:
    """Redis at ``redis_url`` when it is set, else ``otherwise``."""
    from tools.redis_cache import RedisCache

    return RedisCache.from_url(settings.redis_url) if settings.redis_url else otherwise


def silence_backend(settings: Settings, otherwise: SilenceBackend) -> SilenceBackend:
    """Alertmanager at ``alertmanager_url`` when it is set, else ``otherwise``."""
    from tools.alertmanager import AlertmanagerSilences

    if settings.alertmanager_url:
        return AlertmanagerSilences.from_url(settings.alertmanager_url)
    return otherwise


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
    return ClusterSources(
        backends=sim_backends(settings, sim),
        metrics=prometheus_source(settings, clock)
        if settings.metrics.source == "prometheus"
        else sim_metric_source(sim, settings.metrics.max_points),
        logs=sim_log_source(sim),
        default_namespace=default_namespace(settings, sim),
        seed_samples=True,
    )


def kube_api_client(settings: Settings) -> ApiClient:
    """The Kubernetes API client: in-cluster service account, else kubeconfig (KUBECONFIG,
    ``kube_context``). Only reads the credentials; nothing is sent yet."""
    from tools.kube import load_api_client

    try:
        return load_api_client(settings.kubeconfig, settings.kube_context)
    except BackendUnavailableError as exc:
        raise ConfigError(str(exc)) from exc


def kube_backends(settings: Settings, cluster: ClusterBackend) -> Backends:
    """The real thing: ``cluster`` (Kubernetes), Redis and Alertmanager from their URLs (a tool
    whose backend is not configured is refused at its dry run, saying what to set)."""
    return Backends(
        cluster=cluster,
        cache=cache_backend(settings, NotConfigured("Redis", "MEDIC_REDIS_URL")),
        silences=silence_backend(settings, NotConfigured("Alertmanager", "MEDIC_ALERTMANAGER_URL")),
    )


def kube_cluster(
    settings: Settings, api: ApiClient | None = None, *, required: bool = True
) -> ClusterBackend:
    """Kubernetes from kubeconfig or the in-cluster service account. Without credentials: a
    configuration error, or - when the caller's tool does not touch the cluster (``required``
    false: a silence, a purge) - a stand-in named ``kube`` that says why at every use."""
    from tools.kube import KubernetesCluster

    if api is None:
        try:
            api = kube_api_client(settings)
        except ConfigError as exc:
            if required:
                raise
            return NoCluster("kube", str(exc))
    return KubernetesCluster(api, name=f"kube:{api.configuration.host}")


def kube_sources(settings: Settings, clock: Clock) -> ClusterSources:
    """Kubernetes for deployments, pod logs and actions; Prometheus for metrics (required: the
    cluster has no metric store of its own). Configuration is checked before anything connects."""
    from kubernetes.client import AppsV1Api, CoreV1Api

    from knowledge.kube_logs import KubernetesLogSource

    if settings.metrics.source == "cluster":
        raise ConfigError(messages.KUBE_HAS_NO_METRICS)
    metrics = prometheus_source(settings, clock, messages.KUBE_PROMETHEUS_REQUIRED)
    api = kube_api_client(settings)
    return ClusterSources(
        backends=kube_backends(settings, kube_cluster(settings, api)),
        metrics=metrics,
        logs=KubernetesLogSource(
            CoreV1Api(api),
            AppsV1Api(api),
            now=clock.now,
            max_lines=settings.investigation.max_log_lines,
        ),
        default_namespace=default_namespace(settings, None),
        seed_samples=False,
    )


def build_workflow(
    settings: Settings, backends: Backends, clock: Clock, engine: Engine
) -> RemediationWorkflow:
    """The guarded remediation path: policy, proposals, audit log, executor."""
    proposals = ProposalStore(engine)
    return RemediationWorkflow(
        proposals=proposals,
        guard=Guard(load_policy(settings.policy), backends.cluster, proposals),
        backends=backends,
        clock=clock,
        audit=AuditLog(engine),
    )


def vector_store(settings: Settings, data_dir: Path) -> ClientAPI:
    """Chroma: the server named by ``chroma_url``, else embedded in the data directory."""
    if settings.chroma_url:
        return connect_chroma(settings.chroma_url, settings.chroma_timeout_seconds)
    return open_chroma(data_dir / "chroma")


def build_planner(
    settings: Settings,
    backends: Backends,
    workflow: RemediationWorkflow,
    chat: tuple[ChatModel | None, str],
) -> Planner:
    """Runbooks, memory and what changed; then the LLM, when ``chat`` has a model (it sees what
    the others proposed; without a model it only says that it is off, and why)."""
    model, unavailable = chat
    planners: list[CandidatePlanner] = [
        RunbookPlanner(load_runbooks(settings.runbooks_dir)),
        MemoryPlanner(),
        ChangePlanner(),
        LLMPlanner(
            model,
            lambda incident_id: list(structured_tools(workflow, incident_id=incident_id)),
            max_steps=settings.llm.max_steps,
            unavailable=unavailable,
        ),
    ]
    return Planner(planners, backends.cluster, workflow.guard.policy)


def build_flow(
    settings: Settings,
    clock: Clock,
    *,
    sim: SimulatedCluster | None = None,
    embedder: MiniLMEmbedding | None = None,
) -> IncidentFlow:
    """The flow for ``settings.cluster``, never chosen silently: ``sim`` (the simulated cluster
    given) or ``kube`` (Kubernetes, Prometheus, pod logs, Redis and Alertmanager when configured).
    The same state database, memory, planner, guard and workflow either way."""
    if settings.cluster is None:
        raise ConfigError(messages.CLUSTER_REQUIRED)
    if settings.cluster == "kube":
        return assemble_flow(settings, kube_sources(settings, clock), clock, embedder)
    if sim is None:
        raise ValueError("cluster sim needs the simulated cluster")
    return build_sim_flow(settings, sim, clock, embedder)


def build_sim_flow(
    settings: Settings,
    sim: SimulatedCluster,
    clock: Clock,
    embedder: MiniLMEmbedding | None = None,
) -> IncidentFlow:
    """The flow on embedded defaults: the simulated cluster for metrics, logs and actions."""
    return assemble_flow(settings, sim_sources(settings, sim, clock), clock, embedder)


def assemble_flow(
    settings: Settings,
    sources: ClusterSources,
    clock: Clock,
    embedder: MiniLMEmbedding | None = None,
) -> IncidentFlow:
    """One cluster's sources behind the configured state database (SQLite in the data directory
    by default) and incident memory (embedded Chroma, or the server at ``chroma_url``)."""
    data_dir = prepare_data_dir(settings.data_dir)
    engine = state_engine(data_dir, settings.database_url, settings.database)
    backends = sources.backends
    workflow = build_workflow(settings, backends, clock, engine)
    chat = load_chat_model(settings.llm)  # one per process: its in-flight bound is shared
    planner = build_planner(settings, backends, workflow, chat)
    embedder = embedder or MiniLMEmbedding(vectors=VectorCache(data_dir / VECTORS, model_version()))
    memory = IncidentMemory(vector_store(settings, data_dir), embedder)
    if sources.seed_samples:
        memory.seed(sample_incidents())

    catalog = Glossary()
    investigator = Investigator(
        metrics=sources.metrics,
        logs=sources.logs,
        memory=memory,
        catalog=catalog,
        detectors=settings.detectors.suite(),
        settings=settings.investigation,
        clock=clock,
        relatedness=embedder.relatedness,
        template_state=state_path(data_dir),
    )
    return IncidentFlow(
        incidents=IncidentStore(engine),
        workflow=workflow,
        investigator=investigator,
        planner=planner,
        backends=backends,
        memory=memory,
        metrics=sources.metrics,
        catalog=catalog,
        clock=clock,
        verification=settings.verification,
        default_namespace=sources.default_namespace,
        corrections=CorrectionStore(engine),
        min_similarity=settings.investigation.min_similarity,
        chat=chat[0],
    )
