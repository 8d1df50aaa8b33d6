"""Postmortems in: Markdown files and JSON lines (title/summary/body/url), split into chunks that
are embedded and stored in their own collection for search."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chromadb.api import ClientAPI

from knowledge.embeddings import MiniLMEmbedding
from knowledge.log_files import ReadReport
from knowledge.store import collection

COLLECTION = "medic_postmortems"
CHUNK_CHARS = 1200
BATCH = 64
MARKDOWN = (".md", ".markdown")
JSON_LINES = (".jsonl", ".json", ".ndjson")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Postmortem:
    id: str
    title: str
    text: str
    url: str
    origin: str

    def chunks(self) -> list[str]:
        """Paragraphs packed into chunks of about ``CHUNK_CHARS``; each starts with the title so
        a chunk found alone still says what it belongs to."""
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", self.text) if p.strip()]
        chunks: list[str] = []
        current = ""
        for paragraph in paragraphs or [""]:
            if current and len(current) + len(paragraph) > CHUNK_CHARS:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{paragraph}" if current else paragraph
        chunks.append(current)
        return [f"{self.title}. {c}".strip() for c in chunks]


def _identity(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def read_postmortems(path: Path, report: ReadReport) -> Iterator[Postmortem]:
    """Postmortems from a file or every Markdown / JSON-lines file under a directory."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if not path.exists():
        report.skip("missing path", str(path))
        return
    for file in files:
        suffix = file.suffix.lower()
        if suffix in MARKDOWN:
            yield from _markdown(file, report)
        elif suffix in JSON_LINES:
            yield from _json_lines(file, report)
        else:
            report.skip("unknown format", str(file))


def _read_text(file: Path, report: ReadReport) -> str | None:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report.skip("non-UTF-8 file", str(file))
        return None
    except OSError as exc:
        report.skip("unreadable file", f"{file} ({exc.strerror})")
        return None
    if not text.strip():
        report.skip("empty file", str(file))
        return None
    report.files += 1
    return text


def _markdown(file: Path, report: ReadReport) -> Iterator[Postmortem]:
    text = _read_text(file, report)
    if text is None:
        return
    heading = _HEADING.search(text)
    title = heading.group(1) if heading else file.stem.replace("-", " ").replace("_", " ")
    url = next(iter(re.findall(r"^url:\s*(\S+)", text, re.MULTILINE)), "")
    report.lines += 1
    yield Postmortem(_identity(str(file.name), text), title, text, url, str(file))


def _json_lines(file: Path, report: ReadReport) -> Iterator[Postmortem]:
    text = _read_text(file, report)
    if text is None:
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item: Any = json.loads(line)
        except ValueError:
            report.skip("unparseable JSON", f"{file}:{number}")
            continue
        postmortem = _from_json(item, f"{file}:{number}")
        if postmortem is None:
            report.skip("JSON without title/summary/body", f"{file}:{number}")
            continue
        report.lines += 1
        yield postmortem


def _from_json(item: Any, origin: str) -> Postmortem | None:
    if not isinstance(item, dict):
        return None
    keys = ("title", "summary", "description", "body", "url")
    fields = {k: str(item[k]).strip() for k in keys if item.get(k)}
    text = "\n\n".join(fields[k] for k in ("summary", "description", "body") if k in fields)
    if not text and "title" not in fields:
        return None
    company = str(item.get("company") or "").strip()
    title = fields.get("title") or (f"{company}: " if company else "") + _first_words(text)
    url = fields.get("url", "")
    return Postmortem(_identity(url, title, text), title, text or title, url, origin)


def _first_words(text: str, words: int = 10) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


class PostmortemLibrary:
    """Postmortem chunks in Chroma; re-ingesting the same postmortem replaces its chunks."""

    def __init__(self, client: ClientAPI, embedder: MiniLMEmbedding) -> None:
        self._embedder = embedder
        self._collection = collection(client, COLLECTION, embedder)

    def count(self) -> int:
        return int(self._collection.count())

    def ingest(
        self, postmortems: Iterable[Postmortem], progress: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        """Embed and store in batches; ``progress`` is told how many postmortems each batch held.
        Returns (postmortems, chunks)."""
        documents = chunks = 0
        pending: list[tuple[str, str, dict[str, str | int]]] = []
        in_batch = 0
        for postmortem in postmortems:
            documents += 1
            in_batch += 1
            for i, chunk in enumerate(postmortem.chunks()):
                meta: dict[str, str | int] = {
                    "kind": "postmortem",
                    "title": postmortem.title,
                    "url": postmortem.url,
                    "doc": postmortem.id,
                    "chunk": i,
                    "origin": postmortem.origin,
                }
                pending.append((f"pm-{postmortem.id}-{i}", chunk, meta))
            if len(pending) >= BATCH:
                chunks += self._flush(pending)
                if progress:
                    progress(in_batch)
                pending, in_batch = [], 0
        if pending:
            chunks += self._flush(pending)
        if progress and in_batch:
            progress(in_batch)
        return documents, chunks

    def _flush(self, pending: list[tuple[str, str, dict[str, str | int]]]) -> int:
        texts = [text for _, text, _ in pending]
        vectors = self._embedder.encode(texts)
        self._collection.upsert(
            ids=[i for i, _, _ in pending],
            documents=texts,
            embeddings=list(vectors),
            metadatas=[m for _, _, m in pending],
        )
        return len(pending)
