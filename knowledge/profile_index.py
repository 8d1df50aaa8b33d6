"""The remembered incidents nearest to the current one by evidence profile, whatever their text.

The incident memory finds its candidates by text in Chroma, then re-scores them
(``knowledge.matching``). A past incident described otherwise, whose services showed the same
kinds of evidence as now, never reached that comparison once the memory held more incidents
than the text search returns: the place kept for the whole neighbourhood's evidence
(``slotted_order``) could only choose among the text's nearest. This index adds the nearest by
profile (cosine, as ``evidence_similarity`` scores it) to the candidates. It is pure: built
from plain profiles, kept per process, rebuilt after the memory changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.preprocessing import normalize


class ProfileIndex:
    """Profiles (``evidence_key`` -> strength) by incident id, searched by cosine.

    A sparse matrix with one row per incident that has a profile; a query costs one sparse
    product over the rows that share a key with it (``benchmarks/bench_similar_candidates.py``
    measures it at 10,000 incidents)."""

    def __init__(self, profiles: Mapping[str, Mapping[str, float]]) -> None:
        usable = {i: _usable(profile) for i, profile in profiles.items()}
        self._ids = [i for i, profile in usable.items() if profile]
        self._keys = DictVectorizer()
        self._rows = (
            normalize(self._keys.fit_transform([usable[i] for i in self._ids]))
            if self._ids
            else None
        )

    def __len__(self) -> int:
        return len(self._ids)

    def nearest(self, profile: Mapping[str, float], limit: int) -> list[str]:
        """The ids of the ``limit`` incidents whose profile is most alike (positive cosine
        only), most alike first; ties by id, so the same memory gives the same answer."""
        usable = _usable(profile)
        if self._rows is None or not usable or limit <= 0:
            return []
        query = normalize(self._keys.transform([usable]))
        scores = np.asarray((self._rows @ query.T).todense()).ravel()
        found = np.flatnonzero(scores > 0)
        if len(found) > limit:
            found = found[np.argpartition(-scores[found], limit - 1)[:limit]]
        return [
            self._ids[i] for i in sorted(found.tolist(), key=lambda i: (-scores[i], self._ids[i]))
        ]


def _usable(profile: Mapping[str, float]) -> dict[str, float]:
    """The strengths that can be compared: finite and positive (a stored record is data; a NaN
    or an infinity in it must not stop the search)."""
    return {k: float(v) for k, v in profile.items() if math.isfinite(v) and v > 0}
