"""Incident memory: past incidents in Chroma, searched by embedding, shared log templates and
metadata, with an explanation for every match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings

from knowledge.embeddings import MiniLMEmbedding, model_version
from knowledge.errors import KnowledgeError
from knowledge.logs import parse_line
from knowledge.records import IncidentRecord, SimilarIncident
from knowledge.templates import TemplateMiner, readable

COLLECTION = "medic_incidents"
_WORD = re.compile(r"[a-z][a-z0-9_-]+")

# How a match is scored: meaning of the text, shared abnormal log templates, same service.
WEIGHT_EMBEDDING = 0.65
WEIGHT_TEMPLATES = 0.25
WEIGHT_SERVICE = 0.10
TEMPLATE_MATCH = 0.6  # token Jaccard at which two templates count as the same


def open_chroma(path: Path) -> ClientAPI:
    """An embedded Chroma client in ``path`` with telemetry off."""
    try:
        return chromadb.PersistentClient(
            path=str(path), settings=Settings(anonymized_telemetry=False)
        )
    except Exception as exc:  # chromadb raises assorted errors for an unusable directory
        raise KnowledgeError(f"cannot open the incident memory in {path}: {exc}") from exc


def incident_text(
    service: str, title: str, symptoms: Sequence[str], templates: Sequence[str]
) -> str:
    """The text embedded for an incident: what a responder would read first."""
    logs = "; ".join(readable(t) for t in templates[:8])
    return f"{title}. service {service}. symptoms: {'; '.join(symptoms)}. logs: {logs}"


def _tokens(template: str) -> frozenset[str]:
    return frozenset(_WORD.findall(readable(template).lower()))


def shared_templates(current: Sequence[str], past: Sequence[str]) -> list[str]:
    """The current templates that also occurred in a past incident (fuzzy: token Jaccard)."""
    past_tokens = [_tokens(t) for t in past]
    shared = []
    for template in current:
        mine = _tokens(template)
        for theirs in past_tokens:
            union = mine | theirs
            if union and len(mine & theirs) / len(union) >= TEMPLATE_MATCH:
                shared.append(template)
                break
    return shared


class IncidentMemory:
    def __init__(self, client: ClientAPI, embedder: MiniLMEmbedding) -> None:
        self._embedder = embedder
        self._collection = client.get_or_create_collection(
            COLLECTION,
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata={"embedding_model": model_version()},
        )
        stored = (self._collection.metadata or {}).get("embedding_model")
        if stored != model_version():
            raise KnowledgeError(
                f"the incident memory was built with {stored}, not {model_version()}; "
                "rebuild it with `medic knowledge reindex`"
            )

    def count(self) -> int:
        return int(self._collection.count())

    def add(self, record: IncidentRecord) -> IncidentRecord:
        """Store (or replace) a record; templates are mined from its log lines when missing."""
        if not record.templates and record.log_lines:
            miner = TemplateMiner()
            record = record.model_copy(
                update={"templates": miner.templates(parse_line(x) for x in record.log_lines)}
            )
        self._collection.upsert(
            ids=[record.id],
            documents=[
                incident_text(record.service, record.title, record.symptoms, record.templates)
            ],
            metadatas=[
                {
                    "service": record.service,
                    "namespace": record.namespace,
                    "cause": record.cause,
                    "outcome": record.outcome,
                    "source": record.source,
                    "record": record.model_dump_json(),
                }
            ],
        )
        return record

    def seed(self, records: Iterable[IncidentRecord]) -> int:
        """Add the records whose ids are not stored yet; returns how many were added."""
        records = list(records)
        existing = set(self._collection.get(ids=[r.id for r in records], include=[])["ids"])
        added = [self.add(r) for r in records if r.id not in existing]
        return len(added)

    def similar(
        self,
        *,
        service: str,
        title: str,
        symptoms: Sequence[str],
        templates: Sequence[str],
        limit: int = 3,
        exclude: Iterable[str] = (),
    ) -> list[SimilarIncident]:
        total = self.count()
        if total == 0:
            return []
        excluded = set(exclude)
        result = self._collection.query(
            query_texts=[incident_text(service, title, symptoms, templates)],
            n_results=min(total, max(4 * limit, 20) + len(excluded)),
            include=["metadatas", "distances"],
        )
        metadatas: list[Any] = (result["metadatas"] or [[]])[0]
        distances: list[float] = (result["distances"] or [[]])[0]
        matches = []
        for meta, distance in zip(metadatas, distances, strict=True):
            record = IncidentRecord.model_validate_json(str(meta["record"]))
            if record.id in excluded:
                continue
            matches.append(self._score(record, 1.0 - float(distance), service, templates))
        matches.sort(key=lambda m: m.similarity, reverse=True)
        return matches[:limit]

    @staticmethod
    def _score(
        record: IncidentRecord, embedding: float, service: str, templates: Sequence[str]
    ) -> SimilarIncident:
        shared = shared_templates(templates, record.templates)
        overlap = len(shared) / len(templates) if templates else 0.0
        same_service = record.service == service
        score = (
            WEIGHT_EMBEDDING * max(0.0, embedding)
            + WEIGHT_TEMPLATES * overlap
            + WEIGHT_SERVICE * same_service
        )
        reasons = [f"text similarity {embedding:.2f}"]
        if templates:
            reasons.append(f"shares {len(shared)} of {len(templates)} abnormal log templates")
        if same_service:
            reasons.append(f"same service ({service})")
        return SimilarIncident(
            record=record,
            similarity=round(min(1.0, score), 4),
            embedding_similarity=round(embedding, 4),
            shared_templates=shared,
            explanation="; ".join(reasons),
        )
