"""Okapi BM25 keyword ranking over an in-memory corpus (a sparse matrix of term weights)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

K1 = 1.2
B = 0.75


class BM25Index:
    """Scores every document against a query in one sparse column sum."""

    def __init__(self, documents: Sequence[str]) -> None:
        self._vectorizer = CountVectorizer(
            lowercase=True, token_pattern=r"(?u)\b\w[\w-]*\w\b", stop_words="english"
        )
        self.size = len(documents)
        if not documents:
            self._weights = sparse.csc_matrix((0, 0))
            return
        try:
            counts = sparse.csr_matrix(self._vectorizer.fit_transform(documents), dtype=np.float64)
        except ValueError:  # nothing but stop words
            self._weights = sparse.csc_matrix((len(documents), 0))
            return
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = max(float(lengths.mean()), 1.0)
        frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log(1.0 + (len(documents) - frequency + 0.5) / (frequency + 0.5))
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        tf = counts.data
        norm = K1 * (1.0 - B + B * lengths[rows] / average)
        counts.data = idf[counts.indices] * tf * (K1 + 1.0) / (tf + norm)
        self._weights = counts.tocsc()

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document (zeros when no query term is known)."""
        if self._weights.shape[1] == 0:
            return np.zeros(self.size)
        vocabulary = self._vectorizer.vocabulary_
        analyzer = self._vectorizer.build_analyzer()
        columns = sorted({vocabulary[t] for t in analyzer(query) if t in vocabulary})
        if not columns:
            return np.zeros(self.size)
        return np.asarray(self._weights[:, columns].sum(axis=1)).ravel()
