"""The vector store: Chroma embedded in the data directory by default, a Chroma server over HTTP
when configured. Telemetry is off and every collection is opened with Medic's embedding function;
the model that built a collection is recorded in its metadata and a different one is refused.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings

from knowledge.embeddings import MiniLMEmbedding, model_version
from knowledge.errors import KnowledgeError

MODEL_KEY = "embedding_model"
REINDEX_HINT = "rebuild it with `medic knowledge reindex`"
REPAIR_HINT = "move it aside with `medic knowledge repair` (then re-ingest)"
PAGE = 1000


def _settings() -> Settings:
    return Settings(anonymized_telemetry=False)


def open_chroma(path: Path) -> ClientAPI:
    """An embedded Chroma client in ``path``."""
    try:
        client = chromadb.PersistentClient(path=str(path), settings=_settings())
        client.list_collections()
    except Exception as exc:  # chromadb raises assorted errors for an unusable directory
        raise KnowledgeError(
            f"cannot open the incident memory in {path} ({type(exc).__name__}); {REPAIR_HINT}"
        ) from exc
    return client


def connect_chroma(url: str, timeout_seconds: int = 10) -> ClientAPI:
    """A client of the Chroma server at ``url`` (http://host:port) whose every request ends
    within ``timeout_seconds`` of silence.

    chromadb 1.5 builds its httpx session with ``timeout=None`` and has no setting for it
    (chroma-core/chroma#5805), so a server that accepts connections and never answers would hold
    an investigation, a verification or a search for ever. The server is asked for its heartbeat
    under the timeout first (the client's constructor makes a request of its own), then the
    client's session gets the timeout; ``tests/knowledge/test_chroma_server.py`` fails if a
    chromadb upgrade moves the session."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise KnowledgeError(f"chroma_url {url!r} is not an http(s)://host:port URL")
    try:
        httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=timeout_seconds).raise_for_status()
        client = chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=_settings(),
        )
    except Exception as exc:
        raise KnowledgeError(
            f"cannot reach the Chroma server at {url}: {type(exc).__name__}: {exc}"
        ) from exc
    client._server._session.timeout = httpx.Timeout(timeout_seconds)  # type: ignore[attr-defined]
    return client


def collection(client: ClientAPI, name: str, embedder: MiniLMEmbedding) -> Collection:
    """Open (or create) a Medic collection; refuse one built with another embedding model."""
    try:
        found = client.get_or_create_collection(
            name,
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata={MODEL_KEY: model_version(), "hnsw:space": "cosine"},
        )
    except KnowledgeError:
        raise
    except Exception as exc:
        raise KnowledgeError(f"cannot open the collection {name}: {exc}; {REPAIR_HINT}") from exc
    stored = (found.metadata or {}).get(MODEL_KEY)
    if stored != model_version():
        raise KnowledgeError(
            f"the collection {name} was built with {stored}, not {model_version()}; {REINDEX_HINT}"
        )
    return found


def read_all(found: Collection) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Every stored id, document and metadata, page by page."""
    ids: list[str] = []
    documents: list[str] = []
    metadatas: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = found.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
        if not page["ids"]:
            return ids, documents, metadatas
        ids += page["ids"]
        documents += [d or "" for d in page["documents"] or []]
        metadatas += [dict(m or {}) for m in page["metadatas"] or []]
        offset += len(page["ids"])


def reindex(client: ClientAPI, embedder: MiniLMEmbedding) -> dict[str, int]:
    """Re-embed every Medic collection with the current model; returns documents per collection."""
    counts: dict[str, int] = {}
    for name in [c.name for c in client.list_collections()]:
        if not name.startswith("medic_"):
            continue
        old = client.get_collection(name, embedding_function=embedder)  # type: ignore[arg-type]
        ids, documents, metadatas = read_all(old)
        client.delete_collection(name)
        fresh = collection(client, name, embedder)
        for i in range(0, len(ids), PAGE):
            fresh.add(
                ids=ids[i : i + PAGE],
                documents=documents[i : i + PAGE],
                metadatas=metadatas[i : i + PAGE],  # type: ignore[arg-type]
            )
        counts[name] = len(ids)
    return counts


def move_aside(path: Path) -> Path:
    """Rename a broken store out of the way (kept for inspection, never deleted)."""
    target = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(target)
    return target
