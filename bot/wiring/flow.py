"""Putting the incident flow and its remediation path together from the parts a
:class:`~bot.wiring.Wiring` built: one cluster's sources, the state database, the incident
memory's store, the embedding and chat models. Which concrete adapter each part is, the wiring
decides; this module only assembles them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.config import Settings
from bot.diagnosis.corrections import CorrectionStore
from bot.diagnosis.investigation import Investigator
from bot.diagnosis.model import ModelInvestigator
from bot.diagnosis.origin_store import StoredHistory
from bot.diagnosis.origins import OriginFinder
from bot.diagnosis.signals import Glossary
from bot.flow import IncidentFlow
from bot.incidents import IncidentStore
from bot.llm.model import ChatModel
from bot.planners.base import CandidatePlanner
from bot.planners.combine import Planner
from bot.planners.llm import LLMPlanner
from bot.planners.memory import MemoryPlanner
from bot.planners.rollback import ChangePlanner
from bot.planners.runbooks import RunbookPlanner, load_runbooks
from bot.postmortems.store import PostmortemStore
from bot.wiring.backends import with_training_jobs
from bot.wiring.sources import ClusterSources
from knowledge.memory import IncidentMemory
from knowledge.samples import sample_incidents
from knowledge.template_state import state_path
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import Clock, SystemClock
from tools.guard import Guard
from tools.langchain_tools import structured_tools
from tools.policy import load_policy
from tools.proposals import ProposalStore
from tools.workflow import RemediationWorkflow

if TYPE_CHECKING:
    from bot.wiring.process import Wiring


def build_workflow(
    settings: Settings,
    backends: Backends,
    clock: Clock,
    engine: Engine,
    cluster_name: str | None = None,
) -> RemediationWorkflow:
    """The guarded remediation path: policy, proposals, audit log, executor; bound to
    ``cluster_name`` (a name of the clusters map; unset: the backend's own name)."""
    # Real time: expiry judged by the database's clock, one for every replica whatever theirs
    # say; virtual time (the simulated cluster, tests) is one clock already, the flow's.
    proposals = ProposalStore(engine, database_clock=isinstance(clock, SystemClock))
    policy = load_policy(settings.policy)
    backends = with_training_jobs(settings, backends, policy)
    return RemediationWorkflow(
        proposals=proposals,
        guard=Guard(policy, backends.cluster, proposals, cluster_name),
        backends=backends,
        clock=clock,
        audit=AuditLog(engine),
    )


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


def assemble_flow(wiring: Wiring, sources: ClusterSources, clock: Clock) -> IncidentFlow:
    """One cluster's sources behind the wiring's state database and incident memory, with the
    same planner, guard and workflow for every cluster. The parts are asked for in the order
    that reports a bad policy or runbook before anything connects to Chroma."""
    settings = wiring.settings
    backends = sources.backends
    workflow = wiring.workflow(backends, clock)
    planner = build_planner(settings, backends, workflow, wiring.chat)
    embedder = wiring.investigation_embedder
    memory = IncidentMemory(wiring.vector_store, embedder)
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
        template_state=state_path(wiring.data_dir),
        origins=OriginFinder(
            metrics=sources.metrics,
            logs=sources.logs,
            directories=[backends.cluster, *sources.directories],
            graphs=[lambda _: settings.dependencies]
            + ([sources.call_graph] if sources.call_graph else []),
            settings=settings.investigation,
            history=StoredHistory(wiring.engine, settings.investigation.origin_history, clock.now),
        ),
    )
    return IncidentFlow(
        incidents=IncidentStore(wiring.engine),
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
        corrections=CorrectionStore(wiring.engine),
        min_similarity=settings.investigation.min_similarity,
        chat=wiring.chat[0],
        models=ModelInvestigator(sources.registry, sources.features, settings.investigation.model),
        postmortems=PostmortemStore(wiring.engine),
    )
