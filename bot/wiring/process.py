"""The adapters of one process, built from its settings: :class:`Wiring`.

Every part is built on first use and then shared, so a command pays only for what it touches
(`medic audit` opens the state database and never imports Chroma or the embedding model) and a
process never holds two engines or two Chroma clients for the same store. The imports of the
heavy parts are inside the properties for the same reason: importing this module is cheap.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bot import messages
from bot.config import Settings
from bot.errors import ConfigError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from slack_sdk import WebClient
    from sqlalchemy import Engine

    from bot.flow import IncidentFlow
    from bot.llm.model import ChatModel
    from bot.postmortems.drafting import PostmortemDrafter
    from bot.wiring.clusters import ClusterFlows
    from bot.wiring.sources import ClusterSources
    from detectors.features import FeatureSource
    from knowledge.embeddings import MiniLMEmbedding
    from tools.backends import Backends
    from tools.clock import Clock
    from tools.registry import MlflowRegistry, ModelRegistry, TrainingPipeline
    from tools.sim import SimulatedCluster
    from tools.sim.training import ShopRegistry
    from tools.workflow import RemediationWorkflow

SLACK_API_URL = "https://slack.com/api/"
VECTORS = "vectors.db"  # the investigations' embedding cache, in the data directory
CHROMA = "chroma"  # the embedded incident memory, in the data directory


def embedding_model() -> MiniLMEmbedding:
    """The embedding model, for a process with no settings to read (an evaluation on benchmark
    data). It loads on first use, once per process, whichever instance asks."""
    from knowledge.embeddings import MiniLMEmbedding

    return MiniLMEmbedding()


class Wiring:
    """Which concrete adapter sits behind each interface, decided once per process from
    ``settings``: the state database, the incident memory's store, the embedding model, the
    chat model, the Slack Web API client, the cluster's backends and sources, and the incident
    flow made of them. ``embedder`` replaces the embedding model (tests and benchmarks share one
    already warm)."""

    def __init__(self, settings: Settings, *, embedder: MiniLMEmbedding | None = None) -> None:
        self.settings = settings
        self.given_embedder = embedder
        self._shops: dict[int, tuple[SimulatedCluster, ShopRegistry]] = {}
        # The cluster of the clusters map this wiring is (bot.wiring.clusters); None: the one
        # implicit cluster of the top-level settings.
        self.cluster_name: str | None = None
        self._cluster_flows: ClusterFlows | None = None

    def close(self) -> None:
        """Release what was built: the engines' pooled connections and the embedded Chroma's
        files (a process that builds one Wiring holds them to its end; tests build hundreds)."""
        if self._cluster_flows is not None:
            self._cluster_flows.close()
        for name in ("engine", "slack_engine", "inbox_engine"):
            engine = self.__dict__.get(name)
            if engine is not None:
                engine.dispose()
        store = self.__dict__.get("vector_store")
        close = getattr(store, "close", None)  # a Client has it; the ClientAPI protocol does not
        if callable(close):
            close()

    @cached_property
    def data_dir(self) -> Path:
        """The data directory, created if needed and checked writable."""
        from bot.database import prepare_data_dir

        return prepare_data_dir(self.settings.data_dir)

    @cached_property
    def engine(self) -> Engine:
        """The state database: ``database_url`` (PostgreSQL, shared by replicas) or SQLite in the
        data directory; the flow's and the CLI's stores."""
        return self._state_engine()

    @cached_property
    def slack_engine(self) -> Engine:
        """The same state database on a pool of its own, for the Slack side (threads, outbox,
        health). Sharing the flow's engine slowed bench_slack's burst: 1,000 alerts drained in
        ~90 s instead of ~67 s, with the pool doubled too (measured in issue 12; the cause is not
        pinned down), so each side keeps its own pool, as before the wiring was one module."""
        return self._state_engine()

    def _state_engine(self) -> Engine:
        from bot.database import state_engine

        s = self.settings
        return state_engine(self.data_dir, s.database_url, s.database)

    @cached_property
    def inbox_engine(self) -> Engine:
        """The alert inbox: a SQLite file of its own, so the webhook's insert never waits behind
        the threads' writes."""
        from bot.slack.inbox import inbox_engine

        return inbox_engine(self.data_dir)

    @cached_property
    def vector_store(self) -> ClientAPI:
        """Chroma: the server named by ``chroma_url``, else embedded in the data directory."""
        from knowledge.store import connect_chroma, open_chroma

        s = self.settings
        if s.chroma_url:
            return connect_chroma(s.chroma_url, s.chroma_timeout_seconds)
        return open_chroma(self.data_dir / CHROMA)

    @cached_property
    def embedder(self) -> MiniLMEmbedding:
        """The embedding model for search and ingestion: a query or a postmortem is embedded
        once per process and not kept on disk."""
        return self.given_embedder or embedding_model()

    @cached_property
    def investigation_embedder(self) -> MiniLMEmbedding:
        """The embedding model for investigations: log templates recur from one incident to the
        next, so their vectors are kept on disk (``vectors.db``) across runs and processes."""
        if self.given_embedder is not None:
            return self.given_embedder
        from knowledge.embeddings import MiniLMEmbedding, model_version
        from knowledge.vector_cache import VectorCache

        return MiniLMEmbedding(vectors=VectorCache(self.data_dir / VECTORS, model_version()))

    @cached_property
    def chat(self) -> tuple[ChatModel | None, str]:
        """The configured chat model, or None and why not. One per process: its bound on
        calls in flight is shared by the planner and `@medic` answers."""
        from bot.llm.model import load_chat_model

        return load_chat_model(self.settings.llm)

    def postmortem_drafter(self, clock: Clock) -> PostmortemDrafter:
        """`medic postmortem`'s drafter: the state database's stores and the chat model, without
        the cluster's sources (a draft is written from what is kept)."""
        from bot.diagnosis.corrections import CorrectionStore
        from bot.incidents import IncidentStore
        from bot.postmortems.drafting import PostmortemDrafter
        from bot.postmortems.store import PostmortemStore
        from tools.proposals import ProposalStore

        return PostmortemDrafter(
            incidents=IncidentStore(self.engine),
            proposals=ProposalStore(self.engine),
            postmortems=PostmortemStore(self.engine),
            clock=clock,
            corrections=CorrectionStore(self.engine),
            chat=self.chat[0],
        )

    @cached_property
    def slack_client(self) -> WebClient:
        """The Slack Web API client: ``slack_api_url`` (a Slack-compatible server, tests) or
        Slack's own, with the bot token; no retries of its own (the outbox retries)."""
        from bot.slack.bounded_client import BoundedWebClient

        s = self.settings
        base_url = (s.slack_api_url or SLACK_API_URL).rstrip("/") + "/"
        token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else None
        timeout = round(s.slack.timeout_seconds)  # the client takes whole seconds
        return BoundedWebClient(
            token=token,
            base_url=base_url,
            timeout=max(1, timeout),
            retry_handlers=[],
            deadline=s.slack.timeout_seconds,  # the whole call, answer included
        )

    @cached_property
    def model_store(self) -> MlflowRegistry:
        """MLflow as the ``registry`` settings say (embedded in the data directory by default);
        nothing is imported or opened until the first call on it."""
        from bot.wiring.registry import model_store
        from tools.clock import SystemClock

        return model_store(self.settings, self.data_dir, SystemClock())

    def registry(self, sim: SimulatedCluster | None = None) -> ModelRegistry:
        """The model registry: on the simulated cluster ``sim``, the shop's model in MLflow
        (seeded on first use, kept in step with the simulation); otherwise ``model_store``."""
        if sim is None:
            return self.model_store
        return self._shop(sim)

    def training(self, sim: SimulatedCluster | None = None) -> TrainingPipeline:
        """Where models are retrained: the simulated shop's pipeline on ``sim``; on a real
        cluster a stand-in that says what to configure, which the policy's ``training_jobs``
        replace with Kubernetes Jobs (``bot.wiring.backends.with_training_jobs``)."""
        if sim is None:
            from tools.backends import NO_TRAINING

            return NO_TRAINING
        return self._shop(sim).training

    def features(self, sim: SimulatedCluster | None = None) -> FeatureSource | None:
        """ML services' live input histograms on the simulated cluster: its own. A real
        cluster's come from Prometheus, built with its other sources (``kube_sources``)."""
        return sim

    def _shop(self, sim: SimulatedCluster) -> ShopRegistry:
        """One shop registry per simulated cluster (its pending training runs live in it)."""
        held = self._shops.get(id(sim))
        if held is None or held[0] is not sim:
            from bot.wiring.registry import sim_registry

            held = (sim, sim_registry(self.settings, self.data_dir, sim))
            self._shops[id(sim)] = held
        return held[1]

    def _with_models(self, sources: ClusterSources, sim: SimulatedCluster | None) -> ClusterSources:
        """The sources with the registry, pipeline and feature histograms, and the backends
        with the same registry and pipeline (what promote_model and retrain act on)."""
        return replace(
            sources,
            registry=self.registry(sim),
            training=self.training(sim),
            features=self.features(sim) or sources.features,
            backends=self._backends_with_models(sources.backends, sim),
        )

    def _backends_with_models(self, backends: Backends, sim: SimulatedCluster | None) -> Backends:
        return replace(backends, registry=self.registry(sim), training=self.training(sim))

    def backends(self, sim: SimulatedCluster | None, *, cluster_required: bool = True) -> Backends:
        """The backends of ``settings.cluster`` alone, without metrics or logs (`medic act`):
        ``sim``, or Kubernetes - which a tool that does not touch the cluster (a silence, a purge;
        ``cluster_required`` false) does not need credentials for."""
        from bot.wiring.backends import kube_backends, kube_cluster, sim_backends

        if self._cluster() == "sim":
            sim = self._sim(sim)
            return self._backends_with_models(sim_backends(self.settings, sim), sim)
        cluster = kube_cluster(self.settings, required=cluster_required)
        return self._backends_with_models(kube_backends(self.settings, cluster), None)

    def workflow(self, backends: Backends, clock: Clock) -> RemediationWorkflow:
        """The guarded remediation path on ``backends``: policy, proposals, audit log, executor."""
        from bot.wiring.flow import build_workflow

        return build_workflow(self.settings, backends, clock, self.engine, self.cluster_name)

    def sources(self, clock: Clock, sim: SimulatedCluster | None = None) -> ClusterSources:
        """What ``settings.cluster`` gives an investigation, never chosen silently: ``sim`` (the
        simulated cluster given) or ``kube`` (Kubernetes, Prometheus, pod logs, Redis and
        Alertmanager when configured)."""
        from bot.wiring.sources import kube_sources, sim_sources

        if self._cluster() == "kube":
            return self._with_models(kube_sources(self.settings, clock), None)
        sim = self._sim(sim)
        return self._with_models(sim_sources(self.settings, sim, clock), sim)

    def flow(self, clock: Clock, *, sim: SimulatedCluster | None = None) -> IncidentFlow:
        """The incident flow on ``settings.cluster`` (see :meth:`sources`): the same state
        database, memory, planner, guard and workflow either way. With a ``clusters`` map, the
        default cluster's flow, which hands each incident and proposal to its own cluster's
        (:meth:`cluster_flows`)."""
        if self.settings.clusters:
            return self.cluster_flows(clock).front()
        return self._assemble(self.sources(clock, sim), clock)

    def cluster_flows(self, clock: Clock) -> ClusterFlows:
        """The flows of the clusters map, each built on first use (one set per process)."""
        if self._cluster_flows is None:
            from bot.wiring.clusters import ClusterFlows

            self._cluster_flows = ClusterFlows(self, clock)
        return self._cluster_flows

    def sim_flow(self, sim: SimulatedCluster, clock: Clock) -> IncidentFlow:
        """The flow on embedded defaults: the simulated cluster for metrics, logs and actions,
        whatever ``settings.cluster`` says (tests, benchmarks, the scenario suite)."""
        from bot.wiring.sources import sim_sources

        sources = self._with_models(sim_sources(self.settings, sim, clock), sim)
        return self._assemble(sources, clock)

    def _assemble(self, sources: ClusterSources, clock: Clock) -> IncidentFlow:
        from bot.wiring.flow import assemble_flow

        return assemble_flow(self, sources, clock)

    def _cluster(self) -> str:
        if self.settings.cluster is None:
            raise ConfigError(messages.CLUSTER_REQUIRED)
        return self.settings.cluster

    @staticmethod
    def _sim(sim: SimulatedCluster | None) -> SimulatedCluster:
        if sim is None:
            raise ValueError("cluster sim needs the simulated cluster")
        return sim


def build_flow(
    settings: Settings,
    clock: Clock,
    *,
    sim: SimulatedCluster | None = None,
    embedder: MiniLMEmbedding | None = None,
) -> IncidentFlow:
    """The flow alone, for a process that needs nothing else (tests, benchmarks):
    :meth:`Wiring.flow`."""
    return Wiring(settings, embedder=embedder).flow(clock, sim=sim)


def build_sim_flow(
    settings: Settings,
    sim: SimulatedCluster,
    clock: Clock,
    embedder: MiniLMEmbedding | None = None,
) -> IncidentFlow:
    """The flow on the simulated cluster alone, for a process that needs nothing else (tests,
    benchmarks, the scenario suite): :meth:`Wiring.sim_flow`."""
    return Wiring(settings, embedder=embedder).sim_flow(sim, clock)
