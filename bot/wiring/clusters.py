"""Several clusters in one process: one :class:`ClusterWiring` and one incident flow per cluster
of the ``clusters:`` map, each built on the first alert (or proposal) of its cluster, cached, and
closed with the process.

Every cluster shares the process's state database, incident memory, embedding and chat models;
each has its own backends, sources, guard and workflow, bound to its name. A proposal is made by
its cluster's workflow and carries the name; only that cluster's workflow approves or runs it,
so an action can never reach another cluster's API (``tools.workflow.other_cluster``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clusters import cluster_of
from bot.wiring.process import Wiring

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from slack_sdk import WebClient
    from sqlalchemy import Engine

    from bot.flow import IncidentFlow
    from bot.llm.model import ChatModel
    from knowledge.embeddings import MiniLMEmbedding
    from tools.clock import Clock
    from tools.registry import MlflowRegistry
    from tools.sim import SimulatedCluster
    from tools.workflow import Settled

DEFAULT_SCENARIO = "input-size-surge"


class ClusterWiring(Wiring):
    """The wiring of one cluster of the map: its entry applied over the process's settings
    (:meth:`bot.config.ClusterSettings.applied_to`), and the process's shared parts - the state
    database, Chroma, the models, the Slack client - taken from ``parent``, never built twice."""

    def __init__(self, parent: Wiring, name: str) -> None:
        settings = parent.settings.clusters[name].applied_to(parent.settings)
        super().__init__(settings, embedder=parent.given_embedder)
        self.parent = parent
        self.cluster_name = name

    # The parts every cluster shares: the parent's, built (once) where it builds them.
    @property
    def data_dir(self) -> Path:
        return self.parent.data_dir

    @property
    def engine(self) -> Engine:
        return self.parent.engine

    @property
    def vector_store(self) -> ClientAPI:
        return self.parent.vector_store

    @property
    def embedder(self) -> MiniLMEmbedding:
        return self.parent.embedder

    @property
    def investigation_embedder(self) -> MiniLMEmbedding:
        return self.parent.investigation_embedder

    @property
    def chat(self) -> tuple[ChatModel | None, str]:
        return self.parent.chat

    @property
    def slack_client(self) -> WebClient:
        return self.parent.slack_client

    @property
    def model_store(self) -> MlflowRegistry:
        return self.parent.model_store

    def close(self) -> None:
        """Nothing of its own to release: what it uses is the parent's, closed with it."""


class ClusterFlows:
    """The incident flow of each cluster of ``wiring.settings.clusters``, built on first use
    (an alert of that cluster, a proposal bound to it) and kept; the default cluster's flow is
    the one front ends hold (:meth:`front`), and it routes to the others."""

    def __init__(self, wiring: Wiring, clock: Clock) -> None:
        self._wiring = wiring
        self._clock = clock
        settings = wiring.settings
        self._clusters = settings.clusters
        self._label = settings.cluster_label
        assert settings.default_cluster is not None  # checked with the settings
        self._default = settings.default_cluster
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._flows: dict[str, IncidentFlow] = {}
        self._wirings: dict[str, ClusterWiring] = {}
        self._sims: dict[str, SimulatedCluster] = {}

    @property
    def label(self) -> str:
        return self._label

    @property
    def names(self) -> list[str]:
        return list(self._clusters)

    def front(self) -> IncidentFlow:
        """The default cluster's flow, routing every incident and proposal to its own
        cluster's flow."""
        flow = self.flow(self._default)
        flow.clusters = self
        return flow

    def name_for(self, labels: Mapping[str, str], alert: str = "alert") -> str:
        return cluster_of(
            labels, label=self._label, known=self._clusters, default=self._default, alert=alert
        )

    def flow_for(self, labels: Mapping[str, str], alert: str = "alert") -> IncidentFlow:
        return self.flow(self.name_for(labels, alert))

    def flow_named(self, cluster: str) -> IncidentFlow | None:
        return self.flow(cluster) if cluster in self._clusters else None

    def built(self) -> list[str]:
        """The clusters whose flow has been built so far (the others cost nothing yet)."""
        with self._lock:
            return list(self._flows)

    def sim(self, name: str) -> SimulatedCluster | None:
        """The simulated cluster behind ``name`` (kind sim), once its flow is built."""
        return self._sims.get(name)

    def flow(self, name: str) -> IncidentFlow:
        """``name``'s flow, built on first use; two callers at once build it once, and a
        cluster slow to build does not hold up the others."""
        with self._lock:
            built = self._flows.get(name)
            if built is not None:
                return built
            building = self._building.setdefault(name, threading.Lock())
        with building:
            with self._lock:
                built = self._flows.get(name)
            if built is not None:
                return built
            wiring = ClusterWiring(self._wiring, name)
            sim = None
            if wiring.settings.cluster == "sim":
                from bot.wiring.sources import simulated_cluster

                scenario = self._clusters[name].scenario or DEFAULT_SCENARIO
                sim = simulated_cluster(scenario, self._clock)
            flow = wiring.flow(self._clock, sim=sim)
            with self._lock:
                self._flows[name] = flow
                self._wirings[name] = wiring
                if sim is not None:
                    self._sims[name] = sim
            return flow

    def settle_interrupted(self, after_seconds: float) -> list[Settled]:
        """Interrupted actions, each settled by its own cluster's workflow from that cluster's
        state; only the clusters that have one are built. Those bound to a cluster no longer
        in the map are left as they are (nothing can tell their state)."""
        front = self.flow(self._default)
        now = self._clock.now()
        waiting = {p.cluster for p in front.proposals.interrupted(now - after_seconds)}
        settled: list[Settled] = []
        for name in sorted(waiting & set(self._clusters)):
            workflow = self.flow(name).workflow
            settled += workflow.settle_interrupted(after_seconds, only_own=True)
        return settled

    def close(self) -> None:
        with self._lock:
            wirings = list(self._wirings.values())
        for wiring in wirings:
            wiring.close()
