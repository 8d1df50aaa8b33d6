"""Postmortems in: Markdown files and JSON lines (title/summary/body/url), split into chunks that
are embedded and stored in their own collection for search."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from knowledge.canonical import document_id
from knowledge.embeddings import MiniLMEmbedding
from knowledge.log_files import ReadReport, bounded_lines
from knowledge.store import collection

COLLECTION = "medic_postmortems"
TEXT_FIELDS = ("summary", "description", "body")
MAX_FIELD = 100_000  # characters of one field of one postmortem
MAX_JSON_LINE_BYTES = 8 * 2**20  # one JSON-lines record: a few fields of MAX_FIELD, escaped
MAX_TAG = 200
MAX_TAGS = 100
CHUNK_CHARS = 1200
BATCH = 64
MARKDOWN = (".md", ".markdown")
JSON_LINES = (".jsonl", ".json", ".ndjson")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Postmortem:
    """One postmortem record. ``id`` is the canonical document id (``knowledge.canonical``):
    records of the same write-up from several corpora share it; ``record`` tells them apart."""

    id: str
    title: str
    text: str
    url: str
    origin: str
    titled: bool = True  # False when the title was made from the first words of the text
    tags: tuple[str, ...] = ()
    impact: str = ""

    @property
    def record(self) -> str:
        return _identity(self.url, self.title, self.text, ",".join(self.tags), self.impact)

    def header(self) -> str:
        """The short fields as one chunk: title, impact and tags (tags and keywords)."""
        parts = [self.title.rstrip(".") + "."]
        if self.impact:
            parts.append(f"Impact: {self.impact.rstrip('.')}.")
        if self.tags:
            parts.append(f"Tags: {', '.join(self.tags)}.")
        return " ".join(parts)

    def chunks(self) -> list[str]:
        """The header, then the text's paragraphs packed into chunks of about ``CHUNK_CHARS``
        (the title is in the header and metadata, not repeated in every chunk)."""
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", self.text) if p.strip()]
        chunks: list[str] = []
        current = ""
        for paragraph in paragraphs:
            if current and len(current) + len(paragraph) > CHUNK_CHARS:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{paragraph}" if current else paragraph
        if current:
            chunks.append(current)
        return [self.header(), *chunks]


def _identity(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def read_postmortems(path: Path, report: ReadReport) -> Iterator[Postmortem]:
    """Postmortems from a file or every Markdown / JSON-lines file under a directory."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if not path.exists():
        report.skip("missing path", str(path))
        return
    seen: set[tuple[str, str]] = set()  # a record stored twice in one call: Chroma refuses it
    for file in files:
        suffix = file.suffix.lower()
        if suffix in MARKDOWN:
            found = _markdown(file, report)
        elif suffix in JSON_LINES:
            found = _json_lines(file, report)
        else:
            report.skip("unknown format", str(file))
            continue
        for postmortem in found:
            if (postmortem.id, postmortem.record) in seen:
                report.lines -= 1
                report.skip("duplicate postmortem", postmortem.origin)
                continue
            seen.add((postmortem.id, postmortem.record))
            yield postmortem


def _read_text(file: Path, report: ReadReport) -> str | None:
    """The file's text, at most ``markdown_bytes()`` of it: a file of gigabytes (or a link to
    ``/dev/zero``) is read no further, and its body is cut to ``MAX_FIELD`` as any long one is."""
    limit = markdown_bytes()
    try:
        with file.open("rb") as handle:
            data = handle.read(limit + 1)
        # a character cut at the limit is dropped; a byte that is not UTF-8 anywhere is refused
        text = codecs.getincrementaldecoder("utf-8")().decode(
            data[:limit], final=len(data) <= limit
        )
    except UnicodeDecodeError:
        report.skip("non-UTF-8 file", str(file))
        return None
    except OSError as exc:
        report.skip("unreadable file", f"{file} ({exc.strerror})")
        return None
    if not text.strip():
        report.skip("empty file", str(file))
        return None
    if "\x00" in text:  # zeros of a sparse or binary file are no postmortem
        report.skip("binary file", str(file))
        return None
    report.files += 1
    return text


def markdown_bytes() -> int:
    """Bytes of a Markdown file read: its body's ``MAX_FIELD`` characters at 4 bytes each, and
    room for the title and url lines it is stripped of."""
    return 4 * MAX_FIELD + 64 * 1024


def _markdown(file: Path, report: ReadReport) -> Iterator[Postmortem]:
    text = _read_text(file, report)
    if text is None:
        return
    heading = _HEADING.search(text)
    title = heading.group(1) if heading else file.stem.replace("-", " ").replace("_", " ")
    url = next(iter(re.findall(r"^url:\s*(\S+)", text, re.MULTILINE)), "")
    body = (text[: heading.start()] + text[heading.end() :]) if heading else text
    body = re.sub(r"^url:\s*\S+\s*$", "", body, flags=re.MULTILINE).strip()  # shown as the link
    if len(body) > MAX_FIELD:  # as a JSON field is: a file of megabytes is not embedded whole
        report.warnings.append(f"{file}: only its first {MAX_FIELD:,} characters are stored")
        body = body[:MAX_FIELD]
    report.lines += 1
    yield Postmortem(document_id(url, text), title[:MAX_FIELD], body, url, str(file))


def _json_lines(file: Path, report: ReadReport) -> Iterator[Postmortem]:
    """Each line on its own: a line that is not UTF-8, not JSON (nesting too deep for the parser
    included) or holds text that cannot be stored (a lone surrogate escape) is skipped, and the
    file's other lines are still read."""
    try:
        with file.open("rb") as handle:
            yield from _json_records(file, handle, report)
    except OSError as exc:
        report.skip("unreadable file", f"{file} ({exc.strerror})")


def _json_records(file: Path, handle: IO[bytes], report: ReadReport) -> Iterator[Postmortem]:
    """The records of one JSON-lines file, a line at a time: a line over ``MAX_JSON_LINE_BYTES``
    is skipped in bounded memory (a file of gigabytes without a newline is one such line)."""
    counted = False
    for number, raw in enumerate(bounded_lines(handle, MAX_JSON_LINE_BYTES), 1):
        if raw is not None and not raw.strip():
            continue
        if not counted:
            report.files += 1
            counted = True
        if raw is None:
            report.skip(f"line over {MAX_JSON_LINE_BYTES // 2**20} MiB", f"{file}:{number}")
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            report.skip("non-UTF-8 line", f"{file}:{number}")
            continue
        try:
            item: Any = json.loads(line)
        except (ValueError, RecursionError):
            report.skip("unparseable JSON", f"{file}:{number}")
            continue
        try:
            postmortem = _from_json(item, f"{file}:{number}")
            _ = postmortem and postmortem.record  # every field encoded, as storing it will
        except UnicodeEncodeError:
            report.skip("invalid Unicode", f"{file}:{number}")
            continue
        if postmortem is None:
            report.skip("JSON without title/summary/body", f"{file}:{number}")
            continue
        report.lines += 1
        yield postmortem
    if not counted:
        report.skip("empty file", str(file))


def _from_json(item: Any, origin: str) -> Postmortem | None:
    if not isinstance(item, dict):
        return None
    keys = ("title", "summary", "description", "body", "url", "impact", "company", "product")
    fields = {k: str(item[k]).strip()[:MAX_FIELD] for k in keys if item.get(k)}
    title = fields.get("title", "")
    texts = [
        _without(fields[k], title, fields.get("impact", "")) for k in TEXT_FIELDS if k in fields
    ]
    text = "\n\n".join(t for t in texts if t)
    if not text and not title:
        return None
    tags = tuple(
        dict.fromkeys(
            str(tag).strip()[:MAX_TAG]
            for key in ("tags", "keywords")
            if isinstance(item.get(key), list)
            for tag in item[key][:MAX_TAGS]
            if str(tag).strip()
        )
    )
    if fields.get("product"):
        tags = (*tags, fields["product"])
    company = fields.get("company", "")
    made_up = (f"{company}: " if company else "") + _first_words(text)
    url = fields.get("url", "")
    return Postmortem(
        id=document_id(url, text or title),
        title=title or made_up,
        text=text,
        url=url,
        origin=origin,
        titled=bool(title),
        tags=tags,
        impact=fields.get("impact", ""),
    )


def _without(text: str, title: str, impact: str) -> str:
    """A summary without the title (and impact) it repeats: k8s.af summaries are
    "<title> — impact: <impact>", both already in the header chunk."""
    if title and text.startswith(title):
        text = text[len(title) :].lstrip(" -—:.")
    if impact and text.lower().removeprefix("impact:").strip() == impact:
        return ""
    return text


def _first_words(text: str, words: int = 10) -> str:
    """The first sentence, or its first ``words`` words: a title, so no trailing ellipsis."""
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return " ".join(sentence.split()[:words]).rstrip(".,;:")


class PostmortemLibrary:
    """Postmortem chunks in Chroma; re-ingesting the same postmortem replaces its chunks."""

    def __init__(self, client: ClientAPI, embedder: MiniLMEmbedding) -> None:
        self._embedder = embedder
        self._collection = collection(client, COLLECTION, embedder)

    @property
    def collection(self) -> Collection:
        return self._collection

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
                    "titled": int(postmortem.titled),
                    "url": postmortem.url,
                    "doc": postmortem.id,
                    "record": postmortem.record,
                    "chunk": i,
                    "origin": postmortem.origin[-500:],
                }
                key = _identity(postmortem.id)
                pending.append((f"pm-{key}-{postmortem.record}-{i}", chunk, meta))
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
        self._drop_older_ids(pending)
        return len(pending)

    def _drop_older_ids(self, pending: list[tuple[str, str, dict[str, str | int]]]) -> None:
        """Chunks an earlier version stored for these URLs under a per-file id (before
        canonical ids): without this, a re-ingested postmortem would be two documents."""
        urls = sorted({str(m["url"]) for _, _, m in pending if m["url"]})
        docs = sorted({str(m["doc"]) for _, _, m in pending})
        if urls:
            self._collection.delete(
                where={"$and": [{"url": {"$in": urls}}, {"doc": {"$nin": docs}}]}  # type: ignore[dict-item]
            )
