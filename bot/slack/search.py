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
    collection,
)


class Searcher(Protocol):
    def search(self, text: str, limit: int) -> list[SearchHit]: ...


class KnowledgeSearch:
    """Postmortems and incidents, ranked by the knowledge package's hybrid search. The index is
    rebuilt only when a collection changed size (an incident remembered, postmortems ingested)."""

    def __init__(self, client: ClientAPI, embedder: MiniLMEmbedding) -> None:
        self._embedder = embedder
        self._collections = [
            collection(client, n, embedder) for n in (POSTMORTEM_COLLECTION, INCIDENT_COLLECTION)
        ]
        self._lock = threading.Lock()
        self._sizes: tuple[int, ...] = ()
        self._index: HybridSearch | None = None

    def search(self, text: str, limit: int) -> list[SearchHit]:
        sizes = tuple(c.count() for c in self._collections)
        with self._lock:
            if self._index is None or sizes != self._sizes:
                self._index, self._sizes = HybridSearch(self._collections, self._embedder), sizes
            index = self._index
        hits = index.search(text, limit)
        fixes = self._fixes([h.id for h in hits if h.kind == "incident"])
        return [replace(h, snippet=fixes.get(h.id, h.snippet)) for h in hits]

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
