"""Incident memory: past incidents in Chroma, searched by embedding, shared log templates and
metadata, with an explanation for every match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from chromadb.api import ClientAPI

from knowledge.embeddings import MiniLMEmbedding
from knowledge.logs import parse_line
from knowledge.records import IncidentRecord, SimilarIncident
from knowledge.store import collection, open_chroma
from knowledge.templates import ERROR_LEVELS, TemplateMiner, readable

__all__ = ["COLLECTION", "IncidentMemory", "open_chroma"]

COLLECTION = "medic_incidents"
_WORD = re.compile(r"[a-z][a-z0-9_-]+")

# How a match is scored: meaning of the text, shared abnormal log templates, same place.
WEIGHT_EMBEDDING = 0.55
WEIGHT_TEMPLATES = 0.30
WEIGHT_SERVICE = 0.10
WEIGHT_NAMESPACE = 0.05
TEMPLATE_MATCH = 0.6  # token Jaccard at which two templates count as the same
SHOWN_TEMPLATES = 3


def incident_text(
    service: str, title: str, symptoms: Sequence[str], templates: Sequence[str]
) -> str:
    """The text embedded for an incident: what a responder would read first."""
    logs = "; ".join(readable(t) for t in templates[:8])
    return f"{title}. service {service}. symptoms: {'; '.join(symptoms)}. logs: {logs}"


def _focus(templates: Sequence[str]) -> list[str]:
    """The warning-or-worse templates when there are any (their level leads the template)."""
    errors = [t for t in templates if _is_error(t)]
    return errors or list(templates)


def _is_error(template: str) -> bool:
    return template.split(" ", 1)[0].upper() in ERROR_LEVELS


def _tokens(template: str) -> frozenset[str]:
    return frozenset(_WORD.findall(readable(template).lower()))


def shared_templates(current: Sequence[str], past: Sequence[str]) -> list[str]:
    """The current templates that also occurred in a past incident (fuzzy: token Jaccard)."""
    past_set = set(past)
    past_tokens = [_tokens(t) for t in past]
    shared = []
    for template in current:
        if template in past_set:
            shared.append(template)
            continue
        mine = _tokens(template)
        for theirs in past_tokens:
            union = mine | theirs
            if union and len(mine & theirs) / len(union) >= TEMPLATE_MATCH:
                shared.append(template)
                break
    return shared


class IncidentMemory:
    """Past incidents in a Chroma collection; ``similar`` ranks them against the current one."""

    def __init__(self, client: ClientAPI, embedder: MiniLMEmbedding) -> None:
        self._embedder = embedder
        self._collection = collection(client, COLLECTION, embedder)

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
                    "kind": "incident",
                    "title": record.title,
                    "service": record.service,
                    "namespace": record.namespace,
                    "cause": record.cause,
                    "outcome": record.outcome,
                    "source": record.source,
                    "url": record.postmortem_url,
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
        namespace: str | None = None,
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
            matches.append(
                score_match(record, 1.0 - float(distance), service, namespace, templates)
            )
        matches.sort(key=lambda m: m.similarity, reverse=True)
        return matches[:limit]


def score_match(
    record: IncidentRecord,
    embedding: float,
    service: str,
    namespace: str | None,
    templates: Sequence[str],
) -> SimilarIncident:
    """Combine embedding similarity, shared abnormal templates (warnings and errors first) and
    place into one score, and say why."""
    focus = _focus(templates)
    past = _focus(record.templates)
    shared = shared_templates(focus, past)
    overlap = 2 * len(shared) / (len(focus) + len(past)) if focus and past else 0.0
    same_service = record.service == service
    same_namespace = namespace is not None and record.namespace == namespace
    score = (
        WEIGHT_EMBEDDING * max(0.0, embedding)
        + WEIGHT_TEMPLATES * overlap
        + WEIGHT_SERVICE * same_service
        + WEIGHT_NAMESPACE * same_namespace
    )
    reasons = [f"text similarity {embedding:.2f}"]
    if focus:
        kind = "error templates" if _is_error(focus[0]) else "abnormal log templates"
        shown = "; ".join(shared[:SHOWN_TEMPLATES]) + (
            "; ..." if len(shared) > SHOWN_TEMPLATES else ""
        )
        reasons.append(
            f"shares {len(shared)} of {len(focus)} {kind}" + (f": {shown}" if shared else "")
        )
    if same_service:
        reasons.append(f"same service ({service})")
    if same_namespace:
        reasons.append(f"same namespace ({namespace})")
    return SimilarIncident(
        record=record,
        similarity=round(min(1.0, score), 4),
        embedding_similarity=round(embedding, 4),
        shared_templates=shared,
        explanation="; ".join(reasons),
    )
