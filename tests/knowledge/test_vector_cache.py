"""Template vectors outlive the process: a second embedder on the same cache never calls the model
for a template seen before, and gets the same vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import MiniLMEmbedding, model_version
from knowledge.errors import KnowledgeError
from knowledge.vector_cache import VectorCache


def test_vectors_are_reused_across_processes_and_only_new_texts_are_embedded(
    tmp_path: Path, embedder: MiniLMEmbedding, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vectors.db"
    first = MiniLMEmbedding(vectors=VectorCache(path, model_version()))
    known = first.embed_templates(["WARN Request payload <SIZE> exceeds soft limit"])

    later = MiniLMEmbedding(vectors=VectorCache(path, model_version()))
    asked: list[list[str]] = []
    real_encode = later.encode

    def counting(texts: list[str], batch_size: int = 64) -> np.ndarray:
        asked.append(list(texts))
        return real_encode(texts, batch_size)

    monkeypatch.setattr(later, "encode", counting)
    again = later.embed_templates(
        ["WARN Request payload <SIZE> exceeds soft limit", "ERROR Disk <PATH> is full"]
    )
    assert np.allclose(again[0], known[0])
    assert len(asked) == 1 and len(asked[0]) == 1 and "Disk" in asked[0][0]


def test_vectors_of_another_model_are_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "vectors.db"
    VectorCache(path, "model-a").put_many({"x": np.ones(3, dtype=np.float32)})
    assert VectorCache(path, "model-b").get_many(["x"]) == {}
    assert len(VectorCache(path, "model-a").get_many(["x"])) == 1


def test_a_corrupt_cache_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "vectors.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(KnowledgeError, match="delete the file"):
        VectorCache(path, "m")
