"""Incident memory: past incidents in Chroma, searched by embedding and re-scored with shared
rare log templates, place, abnormal metrics, the evidence profile and its shape
(``knowledge.matching``), every match explained.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.errors import ChromaError

from knowledge.embeddings import MiniLMEmbedding
from knowledge.errors import KnowledgeError
from knowledge.logs import parse_line
from knowledge.matching import Query, TemplateRarity, ordered, score_match, shown
from knowledge.profile_index import ProfileIndex
from knowledge.records import IncidentRecord, SimilarIncident
from knowledge.store import collection, open_chroma, read_all
from knowledge.templates import TemplateMiner, readable

__all__ = ["COLLECTION", "IncidentMemory", "open_chroma"]

COLLECTION = "medic_incidents"
# the text search's candidates (the nearest ``max(4 * limit, TEXT_CANDIDATES)``), and as many
# again nearest by each evidence profile (the suspects' and the whole neighbourhood's)
TEXT_CANDIDATES = 20


@dataclass(frozen=True)
class _Recall:
    """What the memory reads from every stored record: template rarity and the two profile
    indices (``knowledge.profile_index``), and how many records they were read from."""

    count: int
    rarity: TemplateRarity
    evidence: ProfileIndex
    neighbourhood: ProfileIndex


@contextmanager
def _answering() -> Iterator[None]:
    """A Chroma server that is down or failing is a KnowledgeError: the investigation goes on
    without the memory and says so."""
    try:
        yield
    except (httpx.HTTPError, ChromaError) as exc:
        raise KnowledgeError(
            f"the vector store did not answer ({type(exc).__name__}: {exc})"
        ) from exc


def incident_text(
    service: str, title: str, symptoms: Sequence[str], templates: Sequence[str]
) -> str:
    """The text embedded for an incident: what a responder would read first."""
    logs = "; ".join(readable(t) for t in templates[:8])
    return f"{title}. service {service}. symptoms: {'; '.join(symptoms)}. logs: {logs}"


class IncidentMemory:
    """Past incidents in a Chroma collection; ``similar`` ranks them against the current one."""

    def __init__(self, client: ClientAPI, embedder: MiniLMEmbedding) -> None:
        self._embedder = embedder
        self._collection = collection(client, COLLECTION, embedder)
        self._recall: _Recall | None = None

    def _read(self, total: int) -> _Recall:
        """Template document frequencies and the profile indices over every stored record,
        read once and again after ``add`` or when the store holds another number of records
        than were read (``total``: another replica, or another process, remembered one)."""
        if self._recall is None or self._recall.count != total:
            ids, _, metadatas = read_all(self._collection)
            records = [IncidentRecord.model_validate_json(str(m["record"])) for m in metadatas]
            self._recall = _Recall(
                len(ids),
                TemplateRarity(r.templates for r in records),
                ProfileIndex({i: r.evidence for i, r in zip(ids, records, strict=True)}),
                ProfileIndex({i: r.neighbourhood for i, r in zip(ids, records, strict=True)}),
            )
        return self._recall

    def count(self) -> int:
        return int(self._collection.count())

    @_answering()
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
        self._recall = None  # a replaced record may have changed its templates or profiles
        return record

    def seed(self, records: Iterable[IncidentRecord]) -> int:
        """Add the records whose ids are not stored yet; returns how many were added."""
        records = list(records)
        existing = set(self._collection.get(ids=[r.id for r in records], include=[])["ids"])
        added = [self.add(r) for r in records if r.id not in existing]
        return len(added)

    @_answering()
    def similar(
        self,
        *,
        service: str,
        title: str,
        symptoms: Sequence[str],
        templates: Sequence[str],
        metrics: Sequence[str] = (),
        namespace: str | None = None,
        limit: int = 3,
        exclude: Iterable[str] = (),
        suspects: Mapping[str, float] | None = None,
        evidence: Mapping[str, float] | None = None,
        ranked: bool = False,
        neighbourhood: Mapping[str, float] | None = None,
    ) -> list[SimilarIncident]:
        """The best ``limit`` matches: the nearest incidents by text and every incident of a
        suspected service, re-scored and ordered (``knowledge.matching``: every ``TEXT_SLOT``-th
        place is the best remaining match by text alone), then listed by their similarity as a
        person sees them (``shown``). ``ranked``: the retrieval order itself, for evaluations
        that score the rank of the first alike incident over the whole memory. ``suspects``
        (service -> score relative to the leader) and ``evidence`` (the evidence profile) come
        from a root-cause ranking when there is one; without them ``service`` is the only
        suspect. ``neighbourhood``: the evidence profile of every service that ranking weighed;
        the place after each text place goes to the match whose neighbourhood is most alike.
        The incidents nearest by either profile are candidates too, as many as by text, so one
        described otherwise is compared at all (``knowledge.profile_index``)."""
        total = self.count()
        if total == 0:
            return []
        excluded = set(exclude)
        text = incident_text(service, title, symptoms, templates)
        vector = self._embedder.encode_unique([text])[0].tolist()
        candidates: dict[str, tuple[IncidentRecord, float]] = {}
        places = sorted({service, *(suspects or {})})
        where = {"service": places[0]} if len(places) == 1 else {"service": {"$in": places}}
        wanted = max(4 * limit, TEXT_CANDIDATES) + len(excluded)
        searches: list[dict[str, Any]] = [
            {"n_results": min(total, wanted)},
            {"n_results": min(total, 50), "where": where},
        ]
        for search in searches:
            result = self._collection.query(
                query_embeddings=[vector], include=["metadatas", "distances"], **search
            )
            metadatas: list[Any] = (result["metadatas"] or [[]])[0]
            distances: list[float] = (result["distances"] or [[]])[0]
            for meta, distance in zip(metadatas, distances, strict=True):
                record = IncidentRecord.model_validate_json(str(meta["record"]))
                if record.id not in excluded:
                    candidates[record.id] = (record, 1.0 - float(distance))
        recall = self._read(total)
        by_profile = [
            i
            for index, profile in (
                (recall.evidence, evidence),
                (recall.neighbourhood, neighbourhood),
            )
            for i in index.nearest(profile or {}, wanted)
            if i not in candidates and i not in excluded
        ]
        if by_profile:
            found = self._collection.get(
                ids=list(dict.fromkeys(by_profile)), include=["metadatas", "embeddings"]
            )
            embeddings = found["embeddings"]  # an array: no truth value
            for meta, embedding in zip(
                found["metadatas"] or [],
                [] if embeddings is None else list(embeddings),
                strict=True,
            ):
                record = IncidentRecord.model_validate_json(str(meta["record"]))
                candidates[record.id] = (record, _cosine(vector, embedding))
        query = Query(
            service,
            templates,
            metrics,
            namespace,
            suspects or {},
            evidence or {},
            neighbourhood or {},
        )
        matches = [score_match(r, sim, query, recall.rarity) for r, sim in candidates.values()]
        return ordered(matches)[:limit] if ranked else shown(matches, limit)


def _cosine(vector: Sequence[float], embedding: Any) -> float:
    """The text similarity of a candidate found by profile, as Chroma's cosine distance gives
    it for the text's own candidates (1 - distance)."""
    a, b = np.asarray(vector, dtype=np.float64), np.asarray(embedding, dtype=np.float64)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0
