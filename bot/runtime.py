"""Wiring: build the incident flow from settings, a cluster and a clock. The only place that knows
which concrete adapter sits behind each interface."""

from __future__ import annotations

from pathlib import Path

import httpx
from chromadb.api import ClientAPI
from sqlalchemy import Engine

from bot.config import Settings
from bot.corrections import CorrectionStore
from bot.database import prepare_data_dir, state_engine
from bot.flow import IncidentFlow
from bot.incidents import IncidentStore
from bot.investigation import Investigator
from bot.planner import Planner
from bot.planners.base import CandidatePlanner
from bot.planners.changes import ChangePlanner
from bot.planners.llm import LLMPlanner, load_model
from bot.planners.memory import MemoryPlanner
from bot.planners.runbooks import RunbookPlanner, load_runbooks
from bot.signals import SignalCatalog
from detectors import InMemoryMetricSource, MetricSource, PrometheusMetricSource, Series
from knowledge.embeddings import MiniLMEmbedding
from knowledge.logs import InMemoryLogSource, LogLine
from knowledge.memory import IncidentMemory
from knowledge.samples import sample_incidents
from knowledge.store import connect_chroma, open_chroma
from knowledge.template_state import state_path
from tools.audit import AuditLog
from tools.backends import Backends, NotConfigured
from tools.clock import Clock
from tools.guard import Guard
from tools.langchain_tools import structured_tools
from tools.policy import load_policy
from tools.proposals import ProposalStore
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow


def sim_metric_source(sim: SimulatedCluster) -> InMemoryMetricSource:
    return InMemoryMetricSource(
        lambda ns, svc, start, end: [
            Series.of(s.metric, s.timestamps, s.values, s.labels)
            for s in sim.metrics(ns, svc, start, end)
        ]
    )


def metric_source(settings: Settings, sim: SimulatedCluster) -> MetricSource:
    """The configured metric source: the cluster's own metrics, or Prometheus."""
    m = settings.metrics
    if m.source == "prometheus":
        client = httpx.Client(base_url=m.prometheus_url, timeout=m.timeout_seconds)
        return PrometheusMetricSource(
            client, m.queries, m.step_seconds, m.max_points, breakdowns=m.breakdowns
        )
    return sim_metric_source(sim)


def sim_log_source(sim: SimulatedCluster) -> InMemoryLogSource:
    return InMemoryLogSource(
        lambda ns, svc, start, end: [
            LogLine(line.timestamp, line.message, line.level, line.pod)
            for line in sim.logs(ns, svc, start, end)
        ]
    )


def sim_backends(sim: SimulatedCluster) -> Backends:
    return Backends(cluster=sim, cache=sim, silences=sim)


def kube_backends(settings: Settings) -> Backends:
    """The real thing: Kubernetes from kubeconfig or the in-cluster service account, Redis and
    Alertmanager from their URLs (a tool whose backend is not configured is refused at its dry
    run, saying what to set)."""
    from tools.alertmanager import AlertmanagerSilences
    from tools.kube import KubernetesCluster, load_api_client
    from tools.redis_cache import RedisCache

    api = load_api_client(settings.kubeconfig, settings.kube_context)
    return Backends(
        cluster=KubernetesCluster(api, name=f"kube:{api.configuration.host}"),
        cache=RedisCache.from_url(settings.redis_url)
        if settings.redis_url
        else NotConfigured("Redis", "MEDIC_REDIS_URL"),
        silences=AlertmanagerSilences.from_url(settings.alertmanager_url)
        if settings.alertmanager_url
        else NotConfigured("Alertmanager", "MEDIC_ALERTMANAGER_URL"),
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
        return connect_chroma(settings.chroma_url)
    return open_chroma(data_dir / "chroma")


def build_planner(settings: Settings, backends: Backends, workflow: RemediationWorkflow) -> Planner:
    """Runbooks, memory and what changed; then the LLM, when a model is configured (it sees what
    the others proposed; without a model it only says that it is off)."""
    model, unavailable = load_model(settings.llm)
    planners: list[CandidatePlanner] = [
        RunbookPlanner(load_runbooks(settings.runbooks_dir)),
        MemoryPlanner(),
        ChangePlanner(),
        LLMPlanner(
            model,
            lambda incident_id: list(structured_tools(workflow, incident_id=incident_id)),
            timeout_seconds=settings.llm.timeout_seconds,
            max_steps=settings.llm.max_steps,
            unavailable=unavailable,
        ),
    ]
    return Planner(planners, backends.cluster, workflow.guard.policy)


def build_sim_flow(
    settings: Settings,
    sim: SimulatedCluster,
    clock: Clock,
    embedder: MiniLMEmbedding | None = None,
) -> IncidentFlow:
    """The flow on embedded defaults: SQLite and Chroma in the data directory, the simulated
    cluster for metrics, logs and actions."""
    data_dir = prepare_data_dir(settings.data_dir)
    engine = state_engine(data_dir, settings.database_url)
    backends = sim_backends(sim)
    workflow = build_workflow(settings, backends, clock, engine)
    planner = build_planner(settings, backends, workflow)
    embedder = embedder or MiniLMEmbedding()
    memory = IncidentMemory(vector_store(settings, data_dir), embedder)
    memory.seed(sample_incidents())

    catalog = SignalCatalog()
    metrics = metric_source(settings, sim)
    investigator = Investigator(
        metrics=metrics,
        logs=sim_log_source(sim),
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
        metrics=metrics,
        catalog=catalog,
        clock=clock,
        verification=settings.verification,
        default_namespace=sim.scenario.namespace,
        corrections=CorrectionStore(engine),
        min_similarity=settings.investigation.min_similarity,
    )
