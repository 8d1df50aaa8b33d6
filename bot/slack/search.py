"""`/medic search`: the small interface the slash command needs, and its adapter over the
knowledge package's hybrid search (BM25 + embeddings) of postmortems and remembered incidents."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Protocol

from chromadb.api import ClientAPI

from knowledge import (
    INCIDENT_COLLECTION,
    POSTMORTEM_COLLECTION,
    HybridSearch,
    IncidentRecord,
    MiniLMEmbedding,
    SearchHit,
    SearchIndex,
    collection,
    open_index,
)
from knowledge.query_encoder import query_encoder


class Searcher(Protocol):
    def search(self, text: str, limit: int) -> list[SearchHit]: ...


class KnowledgeSearch:
    """Postmortems and incidents, ranked by the knowledge package's hybrid search. A collection's
    index is rebuilt only when the collection changed (an incident remembered, postmortems
    ingested); the same index a command-line search reads, so both answer alike."""

    def __init__(self, client: ClientAPI, embedder: MiniLMEmbedding) -> None:
        self._embedder = embedder
        self._collections = [
            collection(client, n, embedder) for n in (POSTMORTEM_COLLECTION, INCIDENT_COLLECTION)
        ]
        self._lock = threading.Lock()
        self._indexes: list[SearchIndex] = []
        self._search: HybridSearch | None = None

    def search(self, text: str, limit: int) -> list[SearchHit]:
        with self._lock:
            known = self._known()
            fresh = [open_index(c, None, k) for c, k in zip(self._collections, known, strict=True)]
            changed = [a is not b for a, b in zip(fresh, self._indexes, strict=False)]
            if self._search is None or len(fresh) != len(self._indexes) or any(changed):
                self._indexes = fresh
                self._search = HybridSearch(fresh, query_encoder())
            search = self._search
        hits = search.search(text, limit)
        fixes = self._fixes([h.id for h in hits if h.kind == "incident"])
        return [replace(h, snippet=fixes.get(h.id, h.snippet)) for h in hits]

    def _known(self) -> list[SearchIndex | None]:
        return list(self._indexes) or [None] * len(self._collections)

    def _fixes(self, incident_ids: list[str]) -> dict[str, str]:
        """For incidents: the service, root cause and what fixed it, from the stored record."""
        if not incident_ids:
            return {}
        found = self._collections[1].get(ids=incident_ids, include=["metadatas"])
        details = {}
        for id_, meta in zip(found["ids"], found["metadatas"] or [], strict=True):
            r = IncidentRecord.model_validate_json(str(meta["record"]))
            fixed = ", ".join(x.describe() for x in r.remediation) or "-"
            outcome = r.outcome.replace("_", " ")
            details[id_] = f"{r.service}: {r.root_cause}; fixed by {fixed} ({outcome})"
        return details
