"""Hybrid search over postmortems and remembered incidents: BM25 keyword ranking (an inverted
index per collection, ``knowledge.bm25``) and embedding similarity (Chroma's nearest neighbours),
fused by reciprocal rank (no score scales to calibrate), best chunk per document.

The keyword indexes are kept in files in the data directory. Opening the search compares each with
its collection (the document count and the ids Chroma lists last, where new documents land): when
they differ, the ids that appeared are read from Chroma and added and the ones that left are
dropped, so the index follows the store without being rebuilt. (A document replaced in place under
the same id keeps its old keywords until ``medic knowledge reindex``.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chromadb.api.models.Collection import Collection

from knowledge.bm25 import KeywordIndex
from knowledge.embeddings import MiniLMEmbedding

RRF_K = 60  # the usual reciprocal-rank-fusion constant
CANDIDATES = 50
PAGE = 1000
TAIL = 100


@dataclass(frozen=True)
class SearchHit:
    """One result: a postmortem or a remembered incident, with a snippet to show under its title
    (``/medic search`` shows an incident's service, cause and fix there instead) and where each
    ranking put it."""

    id: str
    kind: str  # "incident" or "postmortem"
    title: str
    url: str
    snippet: str
    score: float
    keyword_rank: int | None
    embedding_rank: int | None


def keyword_index_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.keywords.npz"


def open_keyword_index(found: Collection, directory: Path | None) -> KeywordIndex:
    """The collection's keyword index from ``directory`` (built or brought up to date with the
    collection, and saved, when needed); an in-memory one when ``directory`` is None."""
    path = keyword_index_path(directory, found.name) if directory else None
    index = KeywordIndex()
    if path is not None and path.exists():
        try:
            index = KeywordIndex.load(path)
        except (OSError, ValueError, KeyError):
            index = KeywordIndex()  # derived data: rebuilt from the collection below
    mark = _fingerprint(found)
    if index.source == mark and index.size == int(found.count()):
        return index
    _follow(index, found)
    index.source = mark
    if path is not None:
        index.save(path)
    return index


def _fingerprint(found: Collection) -> str:
    """The collection's document count and the ids it lists last."""
    count = int(found.count())
    tail = found.get(include=[], limit=TAIL, offset=max(0, count - TAIL))["ids"]
    digest = hashlib.sha256("\x00".join(tail).encode()).hexdigest()[:16]
    return f"{count}:{digest}"


def _follow(index: KeywordIndex, found: Collection) -> None:
    """Add the collection's documents the index lacks; drop the ones the collection lost."""
    present: list[str] = []
    offset = 0
    while page := found.get(include=[], limit=PAGE, offset=offset)["ids"]:
        present += page
        offset += len(page)
    kept = set(present)
    for doc_id in [i for i in index.ids() if i not in kept]:
        index.remove(doc_id)
    missing = [i for i in present if i not in index]
    for start in range(0, len(missing), PAGE):
        got = found.get(ids=missing[start : start + PAGE], include=["documents"])
        index.add_all(zip(got["ids"], [d or "" for d in got["documents"] or []], strict=True))


@dataclass
class _Candidate:
    collection: int
    id: str
    keyword_rank: int | None = None
    embedding_rank: int | None = None
    text: str = ""
    meta: dict[str, Any] | None = None

    @property
    def score(self) -> float:
        ranks = (self.keyword_rank, self.embedding_rank)
        return sum(1.0 / (RRF_K + r) for r in ranks if r is not None)

    @property
    def group(self) -> str:
        """The document a chunk belongs to (one hit per postmortem)."""
        return str((self.meta or {}).get("doc") or self.id)


class HybridSearch:
    """Opens one keyword index per collection; ``search`` is then a postings lookup and one
    nearest-neighbour query per collection."""

    def __init__(
        self,
        collections: Sequence[Collection],
        embedder: MiniLMEmbedding,
        index_dir: Path | None = None,
    ) -> None:
        self._collections = list(collections)
        self._embedder = embedder
        self._indexes = [open_keyword_index(c, index_dir) for c in self._collections]

    @property
    def size(self) -> int:
        return sum(index.size for index in self._indexes)

    def search(self, query: str, limit: int = 5) -> list[SearchHit]:
        if not self.size or not query.strip():
            return []
        candidates: dict[tuple[int, str], _Candidate] = {}
        keyword = [
            (score, n, doc_id)
            for n, index in enumerate(self._indexes)
            for doc_id, score in index.top(query, CANDIDATES)
        ]
        for rank, (_, n, doc_id) in enumerate(sorted(keyword, reverse=True)[:CANDIDATES], 1):
            candidates[(n, doc_id)] = _Candidate(n, doc_id, keyword_rank=rank)
        vector = self._embedder.encode_unique([query])[0].tolist()
        nearest: list[tuple[float, int, str, str, dict[str, Any]]] = []
        for n, found in enumerate(self._collections):
            if not self._indexes[n].size:
                continue
            result = found.query(
                query_embeddings=[vector],
                n_results=min(CANDIDATES, self._indexes[n].size),
                include=["documents", "metadatas", "distances"],
            )
            rows = zip(
                result["ids"][0],
                (result["distances"] or [[]])[0],
                (result["documents"] or [[]])[0],
                (result["metadatas"] or [[]])[0],
                strict=True,
            )
            nearest += [(float(d), n, i, text or "", dict(m or {})) for i, d, text, m in rows]
        for rank, (_, n, doc_id, text, meta) in enumerate(sorted(nearest)[:CANDIDATES], 1):
            found_candidate = candidates.setdefault((n, doc_id), _Candidate(n, doc_id))
            found_candidate.embedding_rank = rank
            found_candidate.text, found_candidate.meta = text, meta
        ranked = sorted(candidates.values(), key=lambda c: -c.score)
        self._fill(ranked)
        return self._hits(ranked, limit)

    def _fill(self, candidates: list[_Candidate]) -> None:
        """Read text and metadata of the keyword-only candidates from their collections."""
        for n, found in enumerate(self._collections):
            lacking = {c.id: c for c in candidates if c.collection == n and c.meta is None}
            if not lacking:
                continue
            got = found.get(ids=list(lacking), include=["documents", "metadatas"])
            for doc_id, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            ):
                lacking[doc_id].text, lacking[doc_id].meta = text or "", dict(meta or {})

    @staticmethod
    def _hits(ranked: list[_Candidate], limit: int) -> list[SearchHit]:
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for candidate in ranked:
            if candidate.meta is None or candidate.group in seen:
                continue
            seen.add(candidate.group)
            meta = candidate.meta
            hits.append(
                SearchHit(
                    id=candidate.group,
                    kind=str(meta.get("kind", "incident")),
                    title=str(meta.get("title") or candidate.text[:80]),
                    url=str(meta.get("url", "")),
                    snippet=_snippet(candidate.text),
                    score=round(candidate.score * RRF_K / 2, 4),  # 1.0 = first in both rankings
                    keyword_rank=candidate.keyword_rank,
                    embedding_rank=candidate.embedding_rank,
                )
            )
            if len(hits) == limit:
                break
        return hits


def _snippet(text: str, chars: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 3] + "..."
