"""Keyword relevance: Okapi BM25 (``bm25s``) over words split, lower-cased, stripped of English
stop words and reduced to their Snowball stems, so "evict pods" meets "Pod evictions" and
"higher-priority" meets "priorities". The index is rebuilt from its documents when they change
(``knowledge.search_index``) and kept in a directory beside the vector store.

The stems come from PyStemmer, Snowball's own C implementation: the same stems as the pure-Python
``snowballstemmer`` (checked word for word over the public corpora) about 60 times faster, which
is what stemming 100,000 documents for an index build needs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

K1 = 1.2
B = 0.75
MAX_CACHED_STEMS = 100_000  # words whose stem is remembered (PyStemmer's cache, bounded)
MAX_QUERY_TERMS = 64  # a pasted log is searched by its first words, not all of them
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
