"""The embedding function: normalised vectors, and a bfloat16 fast path that embeds like float32."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import embeddings
from knowledge.embeddings import DIMENSIONS, MiniLMEmbedding

TEXTS = [
    "WARN Request payload bytes exceeds soft limit",
    "ERROR Connection pool exhausted, waiting for a free connection",
    "INFO Cache eviction freed memory",
    "ERROR OOMKilled: container exceeded its memory limit",
    "database connections all busy; requests queue for the pool",
    "payload size of incoming requests grew threefold",
]


@pytest.mark.slow
def test_the_bfloat16_path_embeds_like_float32(
    embedder: MiniLMEmbedding, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embeddings, "_bf16_native", lambda: False)
    full = embedder.encode(TEXTS)
    monkeypatch.setattr(embeddings, "_bf16_native", lambda: True)
    fast = embedder.encode(TEXTS)
    assert full.shape == fast.shape == (len(TEXTS), DIMENSIONS)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (full * fast).sum(axis=1).min() > 0.999
    # the same nearest neighbour for every text: similar incidents do not change
    assert nearest(full).tolist() == nearest(fast).tolist()
    assert nearest(full)[4] == 1 and nearest(full)[5] == 0  # and the neighbours make sense


def nearest(vectors: np.ndarray) -> np.ndarray:
    """Each row's most similar other row."""
    return np.argsort(-(vectors @ vectors.T), axis=1)[:, 1]
