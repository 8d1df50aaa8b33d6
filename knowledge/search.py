"""Hybrid search over postmortems and remembered incidents: BM25 keyword ranking and embedding
similarity, fused by reciprocal rank (no score scales to calibrate), best chunk per document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection

from knowledge.bm25 import BM25Index
from knowledge.embeddings import MiniLMEmbedding
from knowledge.store import read_all

RRF_K = 60  # the usual reciprocal-rank-fusion constant
CANDIDATES = 50


@dataclass(frozen=True)
class SearchHit:
    id: str
    kind: str
    title: str
    url: str
    snippet: str
    score: float
    keyword_rank: int | None
    embedding_rank: int | None


@dataclass(frozen=True)
class _Doc:
    id: str
    text: str
    meta: dict[str, Any]

    @property
    def group(self) -> str:
        """The document a chunk belongs to (one hit per postmortem)."""
        return str(self.meta.get("doc") or self.id)


class HybridSearch:
    """Loads the texts of the given collections once; ``search`` is then a BM25 pass and one
    nearest-neighbour query per collection."""

    def __init__(self, collections: Sequence[Collection], embedder: MiniLMEmbedding) -> None:
        self._collections = list(collections)
        self._embedder = embedder
        self._docs: list[_Doc] = []
        for found in self._collections:
            ids, documents, metadatas = read_all(found)
            self._docs += [_Doc(*row) for row in zip(ids, documents, metadatas, strict=True)]
        self._position = {doc.id: i for i, doc in enumerate(self._docs)}
        self._bm25 = BM25Index([d.text for d in self._docs])

    @property
    def size(self) -> int:
        return len(self._docs)

    def search(self, query: str, limit: int = 5) -> list[SearchHit]:
        if not self._docs or not query.strip():
            return []
        keyword = self._bm25.scores(query)
        top = np.argsort(-keyword)[:CANDIDATES]
        keyword_order = [int(i) for i in top if keyword[i] > 0]
        vector = self._embedder.encode_unique([query])[0].tolist()
        nearest: list[tuple[float, int]] = []
        for found in self._collections:
            result = found.query(
                query_embeddings=[vector], n_results=min(CANDIDATES, max(1, found.count()))
            )
            for doc_id, distance in zip(
                result["ids"][0], (result["distances"] or [[]])[0], strict=True
            ):
                if doc_id in self._position:
                    nearest.append((float(distance), self._position[doc_id]))
        embedding_order = [i for _, i in sorted(nearest)]
        return self._fuse(keyword_order, embedding_order, limit)

    def _fuse(self, keyword: list[int], embedding: list[int], limit: int) -> list[SearchHit]:
        ranks: dict[int, list[int | None]] = {}
        for rank, i in enumerate(keyword, 1):
            ranks.setdefault(i, [None, None])[0] = rank
        for rank, i in enumerate(embedding, 1):
            ranks.setdefault(i, [None, None])[1] = rank
        scored = sorted(
            ((sum(1.0 / (RRF_K + r) for r in pair if r is not None), i, pair))
            for i, pair in ranks.items()
        )
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for score, i, (keyword_rank, embedding_rank) in reversed(scored):
            doc = self._docs[i]
            if doc.group in seen:
                continue
            seen.add(doc.group)
            hits.append(
                SearchHit(
                    id=doc.group,
                    kind=str(doc.meta.get("kind", "incident")),
                    title=str(doc.meta.get("title") or doc.text[:80]),
                    url=str(doc.meta.get("url", "")),
                    snippet=_snippet(doc.text),
                    score=round(score * RRF_K / 2, 4),  # 1.0 = first in both rankings
                    keyword_rank=keyword_rank,
                    embedding_rank=embedding_rank,
                )
            )
            if len(hits) == limit:
                break
        return hits


def _snippet(text: str, chars: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 3] + "..."
