"""`/medic search`: the small interface the slash command needs, and its adapter over today's
incident memory. When the knowledge package's hybrid search over incidents and postmortems
(`medic search`) lands, an adapter over it replaces :class:`IncidentMemorySearch` in the wiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from knowledge.memory import IncidentMemory


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "incident" or "postmortem"
    id: str
    title: str
    score: float
    detail: str = ""
    url: str = ""


class Searcher(Protocol):
    def search(self, text: str, limit: int) -> list[SearchHit]: ...


class IncidentMemorySearch:
    """Past incidents ranked by meaning (embeddings in Chroma), with what fixed them."""

    def __init__(self, memory: IncidentMemory) -> None:
        self._memory = memory

    def search(self, text: str, limit: int) -> list[SearchHit]:
        matches = self._memory.similar(
            service="", title=text, symptoms=[], templates=[], limit=limit
        )
        hits = []
        for m in matches:
            r = m.record
            fixed = ", ".join(x.describe() for x in r.remediation) or "-"
            detail = (
                f"{r.service}: {r.root_cause}; fixed by {fixed} ({r.outcome.replace('_', ' ')})"
            )
            hits.append(SearchHit("incident", r.id, r.title, m.embedding_similarity, detail))
        return hits
