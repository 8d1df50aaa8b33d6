"""Log lines from files, directories (recursively) and stdin: plain text, JSON lines, gzip.

Bad input is counted and skipped, never fatal: binary or non-UTF-8 lines, lines longer than
``MAX_LINE_BYTES``, empty files, and files in a format Medic does not read (archives, images, binary
blobs). The report says how many of each were skipped and why.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from knowledge.logs import LogLine, iso_seconds, parse_line

MAX_LINE_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# Formats recognised only to be refused politely: zip, bzip2, xz, zstd, 7z, PNG, JPEG, PDF, ELF.
_FOREIGN_MAGIC: tuple[bytes, ...] = (
    b"PK\x03\x04",
    b"BZh",
    b"\xfd7zXZ",
    b"\x28\xb5\x2f\xfd",
    b"7z\xbc\xaf",
)
_FOREIGN_MAGIC += (b"\x89PNG", b"\xff\xd8\xff", b"%PDF", b"\x7fELF")
MESSAGE_KEYS = ("message", "msg", "log", "MESSAGE", "text", "event")
LEVEL_KEYS = ("level", "severity", "lvl", "levelname", "log.level")
TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "t")


class LineStream(Protocol):
    """A binary stream read a line at a time: a file, stdin, a gzip stream."""

    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass
class ReadReport:
    """What reading logs found: lines accepted, lines and files skipped by reason."""

    lines: int = 0
    files: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, where: str, count: int = 1) -> None:
        if self.skipped[reason] == 0:
            self.warnings.append(f"{where}: {reason}, skipped")
        self.skipped[reason] += count

    def summary(self) -> str:
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return f"{self.lines} lines from {self.files} files" + (
            f"; skipped {skipped}" if skipped else ""
        )


def read_logs(
    paths: Iterable[Path], report: ReadReport, stdin: IO[bytes] | None = None
) -> Iterator[LogLine]:
    """Lines of every file under ``paths``; the path ``-`` reads ``stdin``."""
    for path in paths:
        if str(path) == "-" and stdin is not None:
            report.files += 1
            yield from _lines(stdin, "<stdin>", report)
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield from _file(child, report)
        elif path.is_file():
            yield from _file(path, report)
        elif path.exists():  # a device or a named pipe: endless, or waiting for a writer
            report.skip("not a regular file (- reads a pipe)", str(path))
        else:
            report.skip("missing path", str(path))


def _file(path: Path, report: ReadReport) -> Iterator[LogLine]:
    try:
        with path.open("rb") as raw:
            head = raw.read(4)
            raw.seek(0)
            if not head:
                report.skip("empty file", str(path))
                return
            if head.startswith(_FOREIGN_MAGIC):
                report.skip("unknown format", str(path))
                return
            report.files += 1
            if head.startswith(_GZIP_MAGIC):
                with gzip.open(raw) as unzipped:
                    yield from _lines(unzipped, str(path), report)
            else:
                yield from _lines(raw, str(path), report)
    except (OSError, EOFError, zlib.error) as exc:
        report.skip("unreadable file", f"{path} ({exc})")


def bounded_lines(stream: LineStream, limit: int) -> Iterator[bytes | None]:
    """Each line of ``stream`` (its newline kept), or None for a line longer than ``limit`` bytes,
    whose rest is read and dropped ``limit`` bytes at a time. Iterating a file holds a whole line
    in memory, and a file with no newline - a 2 GB sparse file, ``/dev/zero`` behind a link, a
    gzip bomb - is one line: here it costs ``limit`` bytes, whatever its size."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit:
            yield line
            continue
        while not line.endswith(b"\n") and (line := stream.readline(limit)):
            pass
        yield None


def _lines(stream: LineStream, where: str, report: ReadReport) -> Iterator[LogLine]:
    for number, raw in enumerate(bounded_lines(stream, MAX_LINE_BYTES), 1):
        if raw is None:
            report.skip(f"line over {MAX_LINE_BYTES // 1024} KiB", f"{where}:{number}")
            continue
        line = _decode(raw, f"{where}:{number}", report)
        if line is None:
            continue
        parsed = parse_any(line)
        if parsed is None:
            report.skip("unparseable JSON", f"{where}:{number}")
            continue
        if parsed.message:
            report.lines += 1
            yield parsed


def _decode(raw: bytes, where: str, report: ReadReport) -> str | None:
    if b"\x00" in raw:
        report.skip("binary line", where)
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        report.skip("non-UTF-8 line", where)
        return None
    text = text.rstrip("\r\n")
    if sum(1 for c in text if c < " " and c != "\t") > len(text) // 10:
        report.skip("binary line", where)
        return None
    return text


def parse_any(text: str) -> LogLine | None:
    """A JSON object line (message/level/time keys, Docker's ``log``) or a plain line; None for a
    line that starts like JSON but is not."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return parse_line(stripped)
    try:
        data: Any = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message = next((str(data[k]) for k in MESSAGE_KEYS if k in data), None)
    if message is None:
        return LogLine(0.0, stripped)
    level = next((str(data[k]).upper() for k in LEVEL_KEYS if k in data), "")
    timestamp = next((_seconds(data[k]) for k in TIME_KEYS if k in data), 0.0)
    inner = parse_line(message.strip(), timestamp)
    return LogLine(timestamp, inner.message, level or inner.level, str(data.get("pod", "")))


def _seconds(value: Any) -> float:
    """Unix seconds from a number (s, ms, us or ns) or an ISO-8601 string; 0 when neither."""
    if isinstance(value, int | float):
        number = float(value)
        while number > 1e11:  # ms, us, ns
            number /= 1000.0
        return number
    if isinstance(value, str):
        return iso_seconds(value)
    return 0.0
