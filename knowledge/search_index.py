"""What search reads, per collection, kept beside the vector store: every chunk's stored
embedding (for exact cosine similarity - the same answer in every process, where approximate
nearest neighbours gave different candidate lists from one process to the next), its text and
metadata, chunks grouped by document, and a BM25 index over each document's whole text (every
field of every record of it).

The files are rebuilt from the collection when it changed (its size and last ids differ from the
ones recorded). A command-line search that finds the files newer than the store's own files reads
them without opening the store at all."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.keywords import KeywordIndex

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)

DIMENSIONS = 384
PAGE = 1000
TAIL = 100
FORMAT = 1
MANIFEST = "current.json"


@dataclass(eq=False)  # identity: two indexes are never compared field by field
class SearchIndex:
    """Chunks sorted by (document, chunk id), so each document's chunks are contiguous:
    ``starts[d]`` is the first chunk of document ``d``."""

    name: str
    chunk_ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    vectors: np.ndarray  # float32, one normalised row per chunk
    docs: list[str]
    starts: np.ndarray  # int64, one per document
    keywords: KeywordIndex
    source: str = ""

    @property
    def size(self) -> int:
        return len(self.docs)

    def text_of(self, d: int) -> str:
        """Document ``d``'s whole text, as its keyword index holds it (its chunks in order)."""
        end = int(self.starts[d + 1]) if d + 1 < self.size else len(self.texts)
        return "\n".join(self.texts[int(self.starts[d]) : end])

    @classmethod
    def build(
        cls,
        name: str,
        rows: Sequence[tuple[str, str, dict[str, Any], np.ndarray]],
        source: str = "",
    ) -> SearchIndex:
        """From (chunk id, text, metadata, embedding) rows in any order."""

        def doc_of(row: tuple[str, str, dict[str, Any], np.ndarray]) -> str:
            return str(row[2].get("doc") or row[0])

        ordered = sorted(rows, key=lambda r: (doc_of(r), int(r[2].get("chunk", 0) or 0), r[0]))
        docs: list[str] = []
        starts: list[int] = []
        for i, row in enumerate(ordered):
            if not docs or docs[-1] != doc_of(row):
                docs.append(doc_of(row))
                starts.append(i)
        texts = [r[1] for r in ordered]
        ends = [*starts[1:], len(texts)] if starts else []
        whole = ["\n".join(texts[s:e]) for s, e in zip(starts, ends, strict=True)]
        vectors = (
            np.stack([np.asarray(r[3], dtype=np.float32) for r in ordered])
            if ordered
            else np.zeros((0, DIMENSIONS), dtype=np.float32)
        )
        return cls(
            name=name,
            chunk_ids=[r[0] for r in ordered],
            texts=texts,
            metas=[r[2] for r in ordered],
            vectors=vectors,
            docs=docs,
            starts=np.asarray(starts, dtype=np.int64),
            keywords=KeywordIndex.build(whole),
            source=source,
        )

    def save(self, directory: Path) -> None:
        """Write into ``directory`` through a fresh sibling, swapped in at the end (a reader
        never sees half of one)."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(f"{directory.name}.tmp-{id(self)}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        np.save(tmp / "vectors.npy", self.vectors, allow_pickle=False)
        np.save(tmp / "starts.npy", self.starts, allow_pickle=False)
        self.keywords.save(tmp / "bm25")
        chunks = {"ids": self.chunk_ids, "texts": self.texts, "metas": self.metas}
        (tmp / "chunks.json").write_text(json.dumps(chunks))
        head = {
            "format": FORMAT,
            "name": self.name,
            "docs": self.docs,
            "source": self.source,
        }
        (tmp / "index.json").write_text(json.dumps(head))
        old = directory.with_name(f"{directory.name}.old-{id(self)}")
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> SearchIndex:
        """Raises ``OSError``/``ValueError``/``KeyError`` when the files are missing or bad."""
        head = json.loads((directory / "index.json").read_text())
        if head.get("format") != FORMAT:
            raise ValueError(f"{directory}: index format {head.get('format')}")
        chunks = json.loads((directory / "chunks.json").read_text())
        docs = [str(d) for d in head["docs"]]
        vectors = np.load(directory / "vectors.npy", allow_pickle=False)
        starts = np.load(directory / "starts.npy", allow_pickle=False)
        if len(vectors) != len(chunks["ids"]) or len(starts) != len(docs):
            raise ValueError(f"{directory} is not a consistent search index")
        return cls(
            name=str(head["name"]),
            chunk_ids=list(chunks["ids"]),
            texts=list(chunks["texts"]),
            metas=list(chunks["metas"]),
            vectors=vectors.astype(np.float32),
            docs=docs,
            starts=starts.astype(np.int64),
            keywords=KeywordIndex.load(directory / "bm25", len(docs)),
            source=str(head["source"]),
        )


def store_stamp(store: Path) -> str:
    """Size and modification time of an embedded Chroma store's database files: equal stamps
    mean nothing was written since, so a saved index can be used without opening the store."""
    parts = []
    for name in ("chroma.sqlite3", "chroma.sqlite3-wal"):
        try:
            found = (store / name).stat()
        except OSError:
            continue
        parts.append(f"{name}:{found.st_size}:{found.st_mtime_ns}")
    return ";".join(parts)


def load_current(directory: Path, stamp: str) -> list[SearchIndex] | None:
    """The indexes listed in ``directory``'s manifest when it was written against the store as
    it is now (``stamp``); None when it is missing, older, or an index is unreadable."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        if not stamp or manifest.get("stamp") != stamp:
            return None
        return [SearchIndex.load(directory / str(name)) for name in manifest["names"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def mark_current(directory: Path, indexes: Sequence[SearchIndex], stamp: str) -> None:
    """Record that ``indexes`` match the store as it is now (``stamp``), for ``load_current``."""
    tmp = directory / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"stamp": stamp, "names": [i.name for i in indexes]}))
    tmp.replace(directory / MANIFEST)


def fingerprint(found: Collection) -> str:
    """The collection's document count and the ids it lists last (where new ones land)."""
    count = int(found.count())
    tail = found.get(include=[], limit=TAIL, offset=max(0, count - TAIL))["ids"]
    digest = hashlib.sha256("\x00".join(tail).encode()).hexdigest()[:16]
    return f"{count}:{digest}"


def read_collection(found: Collection) -> list[tuple[str, str, dict[str, Any], np.ndarray]]:
    rows: list[tuple[str, str, dict[str, Any], np.ndarray]] = []
    offset = 0
    while True:
        page = found.get(
            include=["documents", "metadatas", "embeddings"], limit=PAGE, offset=offset
        )
        if not page["ids"]:
            return rows
        embeddings = page["embeddings"]
        for i, chunk_id in enumerate(page["ids"]):
            text = (page["documents"] or [])[i] or ""
            meta = dict((page["metadatas"] or [])[i] or {})
            vector = np.asarray(embeddings[i] if embeddings is not None else [], np.float32)
            if vector.shape == (DIMENSIONS,):
                rows.append((chunk_id, text, meta, vector))
        offset += len(page["ids"])


def open_index(
    found: Collection, directory: Path | None, known: SearchIndex | None = None
) -> SearchIndex:
    """The collection's index: ``known`` while the collection has not changed since it was
    built, else the one saved in ``directory``, else rebuilt from the collection (and saved
    when there is a ``directory``)."""
    mark = fingerprint(found)
    if known is not None and known.source == mark:
        return known
    path = directory / found.name if directory else None
    if path is not None and path.exists():
        try:
            index = SearchIndex.load(path)
            if index.source == mark:
                return index
        except (OSError, ValueError, KeyError):
            pass  # derived data: rebuilt below
    index = SearchIndex.build(found.name, read_collection(found), mark)
    if path is not None:
        try:
            index.save(path)
        except OSError as exc:  # derived data: the search answers all the same, unsaved
            log.warning("search index %s not saved: %s", path, exc)
    return index
