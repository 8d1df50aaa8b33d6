"""Embeddings that outlive the process: text -> vector in SQLite in the data directory, keyed by
the embedding model's version. A log template is embedded once in the life of a Medic
installation, not once per process, so steady-state ingest and investigations only pay the
model for templates never seen before."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from knowledge.errors import KnowledgeError


def _key(model: str, text: str) -> bytes:
    return hashlib.sha256(f"{model}\0{text}".encode()).digest()


class VectorCache:
    def __init__(self, path: Path, model: str) -> None:
        self._model = model
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
            )
        except sqlite3.DatabaseError as exc:
            raise KnowledgeError(
                f"cannot open the embedding cache {path}: {exc}; delete the file (it only saves "
                "time) and retry"
            ) from exc

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {_key(self._model, t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        items = list(keys)
        with self._lock:
            for start in range(0, len(items), 500):
                chunk = items[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, blob in rows:
                    found[keys[key]] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        rows = [
            (_key(self._model, text), np.asarray(v, dtype=np.float32).tobytes())
            for text, v in vectors.items()
        ]
        with self._lock, self._db:
            self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])
