"""Okapi BM25 keyword ranking over an inverted index: for every term, the documents holding it and
how often (postings). A query reads the postings of its own terms only, never the whole corpus.

The index lives in a file beside the vector store (``save``/``load``, numpy arrays) and takes
documents one at a time (``add`` replaces a document with the same id, ``remove`` drops one), so
it is kept up to date rather than rebuilt. New documents wait in a small in-memory segment that
is merged into the arrays when the index is saved.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

K1 = 1.2
B = 0.75
_TOKEN = re.compile(r"(?u)\b\w[\w-]*\w\b")
_EMPTY_INT = np.zeros(0, dtype=np.int64)


def terms(text: str) -> list[str]:
    """Lower-cased words of two characters or more, English stop words left out."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in ENGLISH_STOP_WORDS]


class KeywordIndex:
    """An inverted index with BM25 scoring."""

    def __init__(self) -> None:
        self._ids: list[str] = []  # document number -> id (dead numbers keep their slot)
        self._number: dict[str, int] = {}  # id -> number, live documents only
        self._lengths: list[int] = []
        self._alive: list[bool] = []
        self._column: dict[str, int] = {}  # term -> column
        # merged postings: column c holds _docs/_tfs[_indptr[c]:_indptr[c + 1]]
        self._indptr = np.zeros(1, dtype=np.int64)
        self._docs = _EMPTY_INT
        self._tfs = _EMPTY_INT
        self._pending: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self._total_length = 0
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None  # alive, lengths
        self.source = ""  # what the indexed store looked like when this index last matched it

    @property
    def size(self) -> int:
        return len(self._number)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._number

    def ids(self) -> list[str]:
        return list(self._number)

    def add(self, doc_id: str, text: str) -> None:
        """Index a document; one with the same id is replaced."""
        self.remove(doc_id)
        number = len(self._ids)
        counts = Counter(terms(text))
        self._ids.append(doc_id)
        self._number[doc_id] = number
        length = sum(counts.values())
        self._lengths.append(length)
        self._alive.append(True)
        self._total_length += length
        self._arrays = None
        for term, tf in counts.items():
            column = self._column.setdefault(term, len(self._column))
            self._pending[column].append((number, tf))

    def add_all(self, documents: Iterable[tuple[str, str]]) -> None:
        for doc_id, text in documents:
            self.add(doc_id, text)

    def remove(self, doc_id: str) -> None:
        number = self._number.pop(doc_id, None)
        if number is not None:
            self._alive[number] = False
            self._total_length -= self._lengths[number]
            self._arrays = None

    def top(self, query: str, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` best documents for ``query`` with their BM25 scores (score > 0)."""
        if not self._number:
            return []
        if self._arrays is None:
            self._arrays = (
                np.asarray(self._alive, dtype=bool),
                np.asarray(self._lengths, dtype=np.float64),
            )
        alive, lengths = self._arrays
        average = max(self._total_length / len(self._number), 1.0)
        found_docs: list[np.ndarray] = []
        found_weights: list[np.ndarray] = []
        for term in dict.fromkeys(terms(query)):
            docs, tfs = self._postings(term)
            keep = alive[docs]
            docs, tfs = docs[keep], tfs[keep].astype(np.float64)
            if not len(docs):
                continue
            idf = np.log(1.0 + (len(self._number) - len(docs) + 0.5) / (len(docs) + 0.5))
            norm = K1 * (1.0 - B + B * lengths[docs] / average)
            found_docs.append(docs)
            found_weights.append(idf * tfs * (K1 + 1.0) / (tfs + norm))
        if not found_docs:
            return []
        unique, inverse = np.unique(np.concatenate(found_docs), return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(found_weights))
        best = np.argsort(-scores, kind="stable")[:limit]
        return [(self._ids[int(unique[i])], float(scores[i])) for i in best]

    def _postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        column = self._column.get(term)
        if column is None:
            return _EMPTY_INT, _EMPTY_INT
        docs, tfs = _EMPTY_INT, _EMPTY_INT
        if column + 1 < len(self._indptr):
            start, end = self._indptr[column], self._indptr[column + 1]
            docs, tfs = self._docs[start:end], self._tfs[start:end]
        extra = self._pending.get(column)
        if extra:
            more = np.asarray(extra, dtype=np.int64)
            docs, tfs = np.concatenate([docs, more[:, 0]]), np.concatenate([tfs, more[:, 1]])
        return docs, tfs

    def _compact(self) -> None:
        """Merge the pending postings and drop removed documents (renumbering the rest)."""
        columns = np.repeat(np.arange(len(self._indptr) - 1), np.diff(self._indptr))
        pending = [(c, d, tf) for c, rows in self._pending.items() for d, tf in rows]
        extra = np.asarray(pending, dtype=np.int64).reshape(-1, 3)
        columns = np.concatenate([columns, extra[:, 0]])
        docs = np.concatenate([self._docs, extra[:, 1]])
        tfs = np.concatenate([self._tfs, extra[:, 2]])
        alive = np.asarray(self._alive, dtype=bool)
        keep = alive[docs] if len(docs) else np.zeros(0, dtype=bool)
        renumber = np.cumsum(alive) - 1
        columns, docs, tfs = columns[keep], renumber[docs[keep]], tfs[keep]
        order = np.lexsort((docs, columns))
        self._docs, self._tfs = docs[order], tfs[order]
        counts = np.bincount(columns, minlength=len(self._column))
        self._indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._ids = [doc_id for doc_id, live in zip(self._ids, self._alive, strict=True) if live]
        self._lengths = [n for n, live in zip(self._lengths, self._alive, strict=True) if live]
        self._alive = [True] * len(self._ids)
        self._number = {doc_id: i for i, doc_id in enumerate(self._ids)}
        self._pending.clear()
        self._arrays = None

    def save(self, path: Path) -> None:
        """Write the index atomically (a crash mid-write leaves the previous file)."""
        self._compact()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                ids=np.array(self._ids, dtype=str),
                lengths=np.array(self._lengths, dtype=np.int64),
                terms=np.array(list(self._column), dtype=str),
                indptr=self._indptr,
                docs=self._docs,
                tfs=self._tfs,
                source=np.array([self.source], dtype=str),
            )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        """The index saved in ``path``; raises ``OSError`` or ``ValueError`` when unreadable."""
        with np.load(path, allow_pickle=False) as data:
            index = cls()
            index._ids = [str(i) for i in data["ids"].tolist()]
            index._lengths = [int(n) for n in data["lengths"].tolist()]
            index._alive = [True] * len(index._ids)
            index._number = {doc_id: i for i, doc_id in enumerate(index._ids)}
            index._column = {str(t): i for i, t in enumerate(data["terms"].tolist())}
            index._indptr = data["indptr"].astype(np.int64)
            index._docs = data["docs"].astype(np.int64)
            index._tfs = data["tfs"].astype(np.int64)
            index._total_length = int(sum(index._lengths))
            index.source = str(data["source"][0])
        if len(index._indptr) != len(index._column) + 1 or len(index._docs) != index._indptr[-1]:
            raise ValueError(f"{path} is not a consistent keyword index")
        return index
