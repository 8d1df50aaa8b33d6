"""The numpy query encoder puts a question where sentence-transformers puts it: stored vectors
(made with torch at ingest) and questions embedded at a terminal share one space."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.embeddings import MiniLMEmbedding
from knowledge.query_encoder import query_encoder

pytestmark = pytest.mark.slow

TEXTS = [
    "higher-priority pods evict other pods",
    "banana bread recipe with walnuts",
    "DNS résolution échoue 😀 <script>alert(1)</script> &amp;",
    "ERROR db timeout after 30 s " * 80,  # longer than the model's 256 tokens: truncated alike
    "x",
    "",
]


def test_vectors_match_sentence_transformers(embedder: MiniLMEmbedding) -> None:
    ours = query_encoder()(TEXTS)
    theirs = embedder.encode(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    # float32 noise between library versions (transformers' attention kernels) stays below 1e-4;
    # a wrong pooling, truncation or normalisation costs more than 1e-2
    assert np.all(np.sum(ours * theirs, axis=1) >= 0.9999)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_the_same_question_gives_the_same_vector_twice() -> None:
    encode = query_encoder()
    assert np.array_equal(encode(["pods evicted"]), encode(["pods evicted"]))
