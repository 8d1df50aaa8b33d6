"""Log lines and where they come from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from knowledge.errors import LogSourceError

# Seconds the caller can still wait (an investigation's budget): a source asks before each
# request and waits no longer; at 0 it stops with LogSourceError.
TimeLeft = Callable[[], float]


@dataclass(frozen=True)
class LogLine:
    timestamp: float
    message: str
    level: str = ""
    source: str = ""


class LogSource(Protocol):
    """Log lines of one service's pods over a time range (Unix seconds, end exclusive)."""

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[LogLine]: ...


# Reads of one source worth having in flight at once. A remote store (Loki, Elasticsearch, the
# Kubernetes API) spends a read's time waiting on the network, so many overlap; a source that
# makes its lines in this process (the simulator) spends it on this process's CPU, where more
# reads at once only add up. A source says its own with a ``concurrent_reads`` attribute.
REMOTE_READS = 8
IN_PROCESS_READS = 3


def concurrent_reads(source: object) -> int:
    """How many reads of ``source`` to have in flight at once (its ``concurrent_reads``, else
    ``REMOTE_READS``: the log sources that do not say are remote stores)."""
    declared = getattr(source, "concurrent_reads", REMOTE_READS)
    return max(1, declared) if isinstance(declared, int) else REMOTE_READS


class InMemoryLogSource:
    """Answers from a callable, so a simulation can serve live logs. Its reads run in this
    process (``concurrent_reads``: ``IN_PROCESS_READS``)."""

    concurrent_reads = IN_PROCESS_READS

    def __init__(self, fetcher: Callable[[str, str, float, float], Sequence[LogLine]]) -> None:
        self._fetcher = fetcher

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[LogLine]:
        if time_left is not None and time_left() <= 0:
            raise LogSourceError("no time left to read the logs")
        return [
            line
            for line in self._fetcher(namespace, service, start, end)
            if start <= line.timestamp < end
        ]


LEVELS = frozenset(
    {"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL"}
)


def spread(lines: list[LogLine], most: int) -> list[LogLine]:
    """At most ``most`` of ``lines``, evenly spread over them (every k-th), whatever a source
    returned: a cap that keeps the whole window in view, not only its start."""
    return lines if len(lines) <= most else lines[:: -(-len(lines) // most)]


def fair_share(sizes: Sequence[int], total: int) -> int:
    """The most lines each of several services keeps so that together they keep at most
    ``total``: the max-min fair level, so a quiet service keeps all its lines and only the
    loudest are thinned (by ``spread``) - an even cap would thin services that fit."""
    left, count = max(total, 0), len(sizes)
    for k, size in enumerate(sorted(sizes)):
        level = left // (count - k)
        if size > level:
            return level
        left -= size
    return max(sizes, default=0)


def parse_line(text: str, timestamp: float = 0.0) -> LogLine:
    """Split a plain ``[ISO-time] [LEVEL] message`` line; the unrecognised stays in the message.
    A leading ISO-8601 time becomes the timestamp unless one is given."""
    parts = text.strip().split(" ", 2)
    if parts and len(parts[0]) >= 19 and parts[0][4:5] == "-" and parts[0][10:11] == "T":
        timestamp = timestamp or iso_seconds(parts[0])
        parts = text.strip().split(" ", 3)[1:]
    if len(parts) >= 2 and parts[0].upper().strip("[]:") in LEVELS:
        return LogLine(timestamp, " ".join(parts[1:]), parts[0].upper().strip("[]:"))
    return LogLine(timestamp, " ".join(parts))


def iso_seconds(text: str) -> float:
    """Unix seconds of an ISO-8601 time (``Z`` allowed, nanoseconds truncated); 0 if unreadable."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
