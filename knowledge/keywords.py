"""Keyword relevance: Okapi BM25 (``bm25s``) over words split, lower-cased, stripped of English
stop words and reduced to their Snowball stems, so "evict pods" meets "Pod evictions" and
"higher-priority" meets "priorities". The index is rebuilt from its documents when they change
(``knowledge.search_index``) and kept in a directory beside the vector store.

``feedback`` adds pseudo-relevance feedback (RM3-style): the words that weigh most in the few
best keyword matches join the question with a small weight, so a short write-up that a question
describes in other words still gathers the evidence of its best keyword neighbours' vocabulary.

The stems come from PyStemmer, Snowball's own C implementation: the same stems as the pure-Python
``snowballstemmer`` (checked word for word over the public corpora) about 60 times faster, which
is what stemming 100,000 documents for an index build needs."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

K1 = 1.2
B = 0.75
MAX_CACHED_STEMS = 100_000  # words whose stem is remembered (PyStemmer's cache, bounded)
MAX_QUERY_TERMS = 64  # a pasted log is searched by its first words, not all of them
# Pseudo-relevance feedback, chosen by the nested CV inside the dev questions (docs/benchmarks.md):
# words from the 3 best keyword matches, the 10 that weigh most, a fifth of the final score.
FEEDBACK_DOCS = 3
FEEDBACK_TERMS = 10
FEEDBACK_WEIGHT = 0.2
MAX_FEEDBACK_CHARS = 50_000  # of each feedback document: a huge one costs no more than this
_WORD = re.compile(r"(?u)\b\w\w+\b")


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english", MAX_CACHED_STEMS)


@cache
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


def terms(text: str) -> list[str]:
    """The stems of the words of ``text`` that are not stop words, in order."""
    stop = _stop_words()
    words = [w for w in _WORD.findall(text.lower()) if w not in stop]
    return [str(s) for s in _stemmer().stemWords(words)]


class KeywordIndex:
    """BM25 scores of every indexed document for a query (zeros where no term matches)."""

    def __init__(self, retriever: Any, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> KeywordIndex:
        if not texts:
            return cls(None, 0)
        import bm25s

        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.index([terms(t) for t in texts], show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray:
        if self._retriever is None:
            return np.zeros(self.size, dtype=np.float64)
        wanted = [t for t in dict.fromkeys(terms(query)) if t in self._retriever.vocab_dict]
        if not wanted:
            return np.zeros(self.size, dtype=np.float64)
        found = self._retriever.get_scores(wanted[:MAX_QUERY_TERMS])
        return np.asarray(found, dtype=np.float64)

    def feedback(
        self,
        query: str,
        scores: np.ndarray,
        text_of: Callable[[int], str],
        docs: int = FEEDBACK_DOCS,
        weight: float = FEEDBACK_WEIGHT,
        count: int = FEEDBACK_TERMS,
    ) -> np.ndarray:
        """``scores`` (this question's BM25) with the feedback words' BM25 mixed in: ``1 -
        weight`` of the question's own score plus ``weight`` of the expansion's, the expansion
        being the feedback words' scores averaged by their weight and scaled by the number of
        question words (so both parts are on one scale). ``text_of(d)`` is document ``d``'s
        text. Unchanged when nothing matched (no document to learn from) or ``weight`` is 0."""
        top = _best(scores, docs) if self._retriever is not None and weight > 0 else []
        if not top:
            return scores
        asked = list(dict.fromkeys(terms(query)))[:MAX_QUERY_TERMS]
        found = [terms(text_of(d)[:MAX_FEEDBACK_CHARS]) for d in top]
        expansion = feedback_terms(
            asked, found, [float(scores[d]) for d in top], self._document_frequency, self.size
        )[:count]
        total = sum(w for _, w in expansion)
        if total <= 0:
            return scores
        extra = np.zeros(self.size, dtype=np.float64)
        for term, w in expansion:
            self._add_postings(extra, term, w / total)
        return np.asarray((1 - weight) * scores + weight * len(asked) * extra)

    def _add_postings(self, into: np.ndarray, term: str, weight: float) -> None:
        """``into += weight * BM25 of term`` from the term's postings alone: the same values
        as ``get_scores([term])`` without a corpus-sized array per word (at 100,000 documents
        that was most of the feedback's time)."""
        retriever = self._retriever
        if retriever.nonoccurrence_array is not None:  # BM25+/BM25L score absent words too
            into += weight * np.asarray(retriever.get_scores([term]), np.float64)
            return
        at = retriever.vocab_dict[term]
        start, end = (int(i) for i in retriever.scores["indptr"][at : at + 2])
        found = retriever.scores["indices"][start:end]
        into[found] += weight * retriever.scores["data"][start:end].astype(np.float64)

    def _document_frequency(self, term: str) -> int:
        at = self._retriever.vocab_dict.get(term)
        if at is None:
            return 0
        indptr = self._retriever.scores["indptr"]
        return int(indptr[at + 1] - indptr[at])

    def save(self, directory: Path) -> None:
        if self._retriever is not None:
            self._retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> KeywordIndex:
        """The index saved in ``directory``; raises ``OSError``/``ValueError`` when unreadable."""
        if size == 0:
            return cls(None, 0)
        import bm25s

        retriever = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        return cls(retriever, size)


def _best(scores: np.ndarray, k: int) -> list[int]:
    """The ``k`` best documents that matched at all (score above 0), best first, ties by
    position (a stable sort's order). Only the matched ones are partitioned: a partition of the
    whole corpus was most of the feedback's time at 100,000 documents."""
    found = np.flatnonzero(scores > 0)
    if k <= 0:
        return []
    if len(found) > k:
        values = scores[found]
        found = found[values >= np.partition(values, len(values) - k)[len(values) - k]]
    return [int(d) for d in found[np.lexsort((found, -scores[found]))][:k]]


def feedback_terms(
    asked: Sequence[str],
    documents: Sequence[Sequence[str]],
    scores: Sequence[float],
    frequency: Callable[[str], int],
    size: int,
) -> list[tuple[str, float]]:
    """The words of the feedback ``documents`` (their terms) that are not in the question,
    weighed as in RM3: each document's share of the feedback documents' scores times the word's
    share of the document, times its inverse document frequency (``frequency`` over ``size``
    documents) so words every postmortem uses do not lead. Heaviest first, ties by word."""
    total = sum(scores) or 1.0
    weights: dict[str, float] = {}
    for words, score in zip(documents, scores, strict=True):
        if not words:
            continue
        for word, n in Counter(words).items():
            df = frequency(word)
            if df > 0:
                share = (score / total) * (n / len(words)) * float(np.log(size / df))
                weights[word] = weights.get(word, 0.0) + share
    skip = set(asked)
    return sorted(
        ((w, v) for w, v in weights.items() if w not in skip and v > 0), key=lambda x: (-x[1], x[0])
    )
