"""Incident memory: log sources and template mining, embeddings and the vector store, similar-
incident search, postmortems, root-cause ranking over logs, traces and metrics, and the metric
vocabulary (``vocabulary.yaml``) that the diagnosis, the memory and the ranking share.

Nothing in this package imports ``bot``. Import from the package (``from knowledge import
IncidentMemory``), not its modules: ``__all__`` is the supported surface. Names load on first use
(PEP 562) because some of their modules are slow to import (Chroma, sentence-transformers, the
Kubernetes client) and much of Medic - the CLI's help, the diagnosis, the tests of pure logic -
needs none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.embeddings import DIMENSIONS, MiniLMEmbedding, model_version
    from knowledge.errors import KnowledgeError, LogSourceError
    from knowledge.kube_logs import KubernetesLogSource
    from knowledge.log_files import ReadReport, read_logs
    from knowledge.logs import InMemoryLogSource, LogLine, LogSource, parse_line
    from knowledge.matching import PROFILE_WIDTH, Query, evidence_profile, metric_family
    from knowledge.memory import COLLECTION as INCIDENT_COLLECTION
    from knowledge.memory import IncidentMemory
    from knowledge.postmortems import COLLECTION as POSTMORTEM_COLLECTION
    from knowledge.postmortems import Postmortem, PostmortemLibrary, read_postmortems
    from knowledge.ranking import ComponentWindow, Features, RankedCause, features, rank_components
    from knowledge.records import IncidentRecord, Remediation, SimilarIncident, TemplateCount
    from knowledge.search import HybridSearch, SearchHit
    from knowledge.search_index import SearchIndex, open_index
    from knowledge.store import collection, connect_chroma, move_aside, open_chroma, reindex
    from knowledge.template_state import load_miner, save_miner, state_path
    from knowledge.templates import TemplateChanges, TemplateMiner, TemplateStat, readable
    from knowledge.traces import (
        FlowModel,
        TraceEvent,
        TraceEvidence,
        group_traces,
        trace_events,
        trace_evidence,
        trace_id_of,
    )
    from knowledge.vector_cache import VectorCache
    from knowledge.vocabulary import Cause, LogSignature, Signal, Vocabulary, default_vocabulary

# public name -> (module, attribute); what __getattr__ imports on first use
_EXPORTS: dict[str, tuple[str, str]] = {
    "Cause": ("knowledge.vocabulary", "Cause"),
    "ComponentWindow": ("knowledge.ranking", "ComponentWindow"),
    "DIMENSIONS": ("knowledge.embeddings", "DIMENSIONS"),
    "Features": ("knowledge.ranking", "Features"),
    "FlowModel": ("knowledge.traces", "FlowModel"),
    "HybridSearch": ("knowledge.search", "HybridSearch"),
    "INCIDENT_COLLECTION": ("knowledge.memory", "COLLECTION"),
    "InMemoryLogSource": ("knowledge.logs", "InMemoryLogSource"),
    "IncidentMemory": ("knowledge.memory", "IncidentMemory"),
    "IncidentRecord": ("knowledge.records", "IncidentRecord"),
    "KnowledgeError": ("knowledge.errors", "KnowledgeError"),
    "KubernetesLogSource": ("knowledge.kube_logs", "KubernetesLogSource"),
    "LogLine": ("knowledge.logs", "LogLine"),
    "LogSignature": ("knowledge.vocabulary", "LogSignature"),
    "LogSource": ("knowledge.logs", "LogSource"),
    "LogSourceError": ("knowledge.errors", "LogSourceError"),
    "MiniLMEmbedding": ("knowledge.embeddings", "MiniLMEmbedding"),
    "POSTMORTEM_COLLECTION": ("knowledge.postmortems", "COLLECTION"),
    "PROFILE_WIDTH": ("knowledge.matching", "PROFILE_WIDTH"),
    "Postmortem": ("knowledge.postmortems", "Postmortem"),
    "PostmortemLibrary": ("knowledge.postmortems", "PostmortemLibrary"),
    "Query": ("knowledge.matching", "Query"),
    "RankedCause": ("knowledge.ranking", "RankedCause"),
    "ReadReport": ("knowledge.log_files", "ReadReport"),
    "Remediation": ("knowledge.records", "Remediation"),
    "SearchHit": ("knowledge.search", "SearchHit"),
    "SearchIndex": ("knowledge.search_index", "SearchIndex"),
    "Signal": ("knowledge.vocabulary", "Signal"),
    "SimilarIncident": ("knowledge.records", "SimilarIncident"),
    "TemplateChanges": ("knowledge.templates", "TemplateChanges"),
    "TemplateCount": ("knowledge.records", "TemplateCount"),
    "TemplateMiner": ("knowledge.templates", "TemplateMiner"),
    "TemplateStat": ("knowledge.templates", "TemplateStat"),
    "TraceEvent": ("knowledge.traces", "TraceEvent"),
    "TraceEvidence": ("knowledge.traces", "TraceEvidence"),
    "VectorCache": ("knowledge.vector_cache", "VectorCache"),
    "Vocabulary": ("knowledge.vocabulary", "Vocabulary"),
    "collection": ("knowledge.store", "collection"),
    "connect_chroma": ("knowledge.store", "connect_chroma"),
    "default_vocabulary": ("knowledge.vocabulary", "default_vocabulary"),
    "evidence_profile": ("knowledge.matching", "evidence_profile"),
    "features": ("knowledge.ranking", "features"),
    "group_traces": ("knowledge.traces", "group_traces"),
    "load_miner": ("knowledge.template_state", "load_miner"),
    "metric_family": ("knowledge.matching", "metric_family"),
    "model_version": ("knowledge.embeddings", "model_version"),
    "move_aside": ("knowledge.store", "move_aside"),
    "open_chroma": ("knowledge.store", "open_chroma"),
    "open_index": ("knowledge.search_index", "open_index"),
    "parse_line": ("knowledge.logs", "parse_line"),
    "rank_components": ("knowledge.ranking", "rank_components"),
    "read_logs": ("knowledge.log_files", "read_logs"),
    "read_postmortems": ("knowledge.postmortems", "read_postmortems"),
    "readable": ("knowledge.templates", "readable"),
    "reindex": ("knowledge.store", "reindex"),
    "save_miner": ("knowledge.template_state", "save_miner"),
    "state_path": ("knowledge.template_state", "state_path"),
    "trace_events": ("knowledge.traces", "trace_events"),
    "trace_evidence": ("knowledge.traces", "trace_evidence"),
    "trace_id_of": ("knowledge.traces", "trace_id_of"),
}

__all__ = [
    "DIMENSIONS",
    "INCIDENT_COLLECTION",
    "POSTMORTEM_COLLECTION",
    "PROFILE_WIDTH",
    "Cause",
    "ComponentWindow",
    "Features",
    "FlowModel",
    "HybridSearch",
    "InMemoryLogSource",
    "IncidentMemory",
    "IncidentRecord",
    "KnowledgeError",
    "KubernetesLogSource",
    "LogLine",
    "LogSignature",
    "LogSource",
    "LogSourceError",
    "MiniLMEmbedding",
    "Postmortem",
    "PostmortemLibrary",
    "Query",
    "RankedCause",
    "ReadReport",
    "Remediation",
    "SearchHit",
    "SearchIndex",
    "Signal",
    "SimilarIncident",
    "TemplateChanges",
    "TemplateCount",
    "TemplateMiner",
    "TemplateStat",
    "TraceEvent",
    "TraceEvidence",
    "VectorCache",
    "Vocabulary",
    "collection",
    "connect_chroma",
    "default_vocabulary",
    "evidence_profile",
    "features",
    "group_traces",
    "load_miner",
    "metric_family",
    "model_version",
    "move_aside",
    "open_chroma",
    "open_index",
    "parse_line",
    "rank_components",
    "read_logs",
    "read_postmortems",
    "readable",
    "reindex",
    "save_miner",
    "state_path",
    "trace_events",
    "trace_evidence",
    "trace_id_of",
]


def __getattr__(name: str) -> object:
    """Import a public name's module the first time the name is asked for."""
    found = _EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module 'knowledge' has no attribute {name!r}")
    module, attribute = found
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
