"""Grafana Loki as a log source: a LogQL stream selector over ``GET /loki/api/v1/query_range``.

The selector names the service by the stream labels the configuration maps to namespace and
service (promtail's Kubernetes discovery writes ``namespace``, ``app`` and ``pod``); the pod label
becomes each line's source. Loki caps the lines of one query (``max_entries_limit_per_query``,
5,000 by default), so a window is read forward a page at a time, each page starting at the last
line's nanosecond timestamp, the lines already read at that instant skipped (more lines at one
nanosecond than a page holds cannot be paged through, in Loki itself: the rest are skipped). The
window is cut into slices, each with its share of the lines, so that the whole window stays in
view; the slices are requested at once, at most ``concurrent_reads`` in flight per source.

The request and the answer follow Loki's documented HTTP API (grafana.com/docs/loki/latest/
reference/loki-http-api/, "Query logs within a range of time"): ``query``, ``start`` and ``end``
in nanoseconds, ``limit``, ``direction=forward``; the answer
``{"status": "success", "data": {"resultType": "streams", "result": [{"stream": {labels},
"values": [["<ns>", "<line>"], ...]}]}}``; an error is a 4xx/5xx with a plain-text body.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from knowledge.errors import LogSourceError
from knowledge.log_files import parse_any
from knowledge.log_http import (
    MAX_LABEL_CHARS,
    MAX_MESSAGE_CHARS,
    RequestCount,
    bounded,
    one_line,
    read_sliced,
    request_json,
    slice_pool,
)
from knowledge.logs import REMOTE_READS, LogLine, TimeLeft

QUERY_RANGE = "/loki/api/v1/query_range"
NS = 1_000_000_000


@dataclass(frozen=True)
class LokiLabels:
    """The stream labels naming a line's namespace, service and pod."""

    namespace: str = "namespace"
    service: str = "app"
    pod: str = "pod"


def logql_string(value: str) -> str:
    """``value`` as a LogQL double-quoted string: a label value from an alert can hold anything,
    and must never change the selector."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def selector(labels: LokiLabels, namespace: str, service: str) -> str:
    """The stream selector of one service's lines."""
    return (
        f"{{{labels.namespace}={logql_string(namespace)}, "
        f"{labels.service}={logql_string(service)}}}"
    )


@dataclass(frozen=True)
class _Entry:
    ns: int
    line: str
    pod: str


class LokiLogSource:
    """A ``LogSource`` over Loki's HTTP API (client injected, with its base URL and headers:
    authentication and the tenant's ``X-Scope-OrgID``)."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        labels: LokiLabels | None = None,
        max_lines: int = 50_000,
        page_lines: int = 1000,
        max_response_bytes: int = 8 * 1024 * 1024,
        slices: int = 8,
        concurrent_reads: int = REMOTE_READS,
    ) -> None:
        self._client = client
        self._labels = labels or LokiLabels()
        self._max_lines = max_lines
        self._page = page_lines
        self._max_bytes = max_response_bytes
        self._slices = slices
        self.concurrent_reads = max(1, concurrent_reads)  # requests in flight at once, at most
        self._pool = slice_pool(self.concurrent_reads, "loki-slices")
        self._count = RequestCount()

    @property
    def requests(self) -> int:
        """How many requests the last fetch took (the benchmark reads it)."""
        return self._count.value

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[LogLine]:
        query = selector(self._labels, namespace, service)
        self._count.reset()
        return read_sliced(
            start,
            end,
            self._slices,
            self._max_lines,
            lambda a, b, share: self._slice(query, int(a * NS), int(b * NS), share, time_left),
            pool=self._pool,
        )

    def _slice(
        self, query: str, start_ns: int, end_ns: int, want: int, time_left: TimeLeft | None
    ) -> list[LogLine]:
        """At most ``want`` lines of ``[start_ns, end_ns)``, oldest first, a page at a time."""
        out: list[LogLine] = []
        cursor, seen = start_ns, set[tuple[str, str]]()
        while len(out) < want and cursor < end_ns:
            limit = min(self._page, want - len(out) + len(seen))
            entries = self._page_of(query, cursor, end_ns, limit, time_left)
            fresh = [e for e in entries if not (e.ns == cursor and (e.pod, e.line) in seen)]
            out += [line for e in fresh[: want - len(out)] if (line := _line(e))]
            if len(entries) < limit:
                break  # the slice is read to its end
            last = entries[-1].ns
            if not fresh:  # a page of lines all at one instant, all read: step past it
                cursor, seen = cursor + 1, set()
                continue
            same = {(e.pod, e.line) for e in entries if e.ns == last}
            seen = seen | same if last == cursor else same
            cursor = last
        return out

    def _page_of(
        self, query: str, start_ns: int, end_ns: int, limit: int, time_left: TimeLeft | None
    ) -> list[_Entry]:
        self._count.add()
        body = request_json(
            self._client,
            "GET",
            QUERY_RANGE,
            what="Loki's logs",
            max_bytes=self._max_bytes,
            time_left=time_left,
            params={
                "query": query,
                "start": str(start_ns),
                "end": str(end_ns),
                "limit": str(limit),
                "direction": "forward",
            },
        )
        return sorted(_entries(body, self._labels.pod), key=lambda e: e.ns)


def _entries(body: Any, pod_label: str) -> Iterable[_Entry]:
    """The entries of a ``streams`` answer; anything else is a ``LogSourceError``."""
    if not isinstance(body, dict) or body.get("status") != "success":
        raise LogSourceError(f"Loki's logs: unexpected answer {one_line(str(body), 120)}")
    data = body.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "streams":
        kind = data.get("resultType") if isinstance(data, dict) else None
        raise LogSourceError(f"Loki's logs: expected streams, got {one_line(str(kind), 60)}")
    result = data.get("result")
    if not isinstance(result, list):
        raise LogSourceError("Loki's logs: the answer has no result list")
    for stream in result:
        if not isinstance(stream, dict) or not isinstance(stream.get("values"), list):
            continue
        labels = stream.get("stream")
        pod = labels.get(pod_label, "") if isinstance(labels, dict) else ""
        for value in stream["values"]:
            # [ns, line] - newer Loki may add a third element, the structured metadata
            if isinstance(value, list) and len(value) >= 2 and isinstance(value[1], str):
                ns = _nanoseconds(value[0])
                if ns is not None:
                    yield _Entry(ns, value[1], bounded(pod, MAX_LABEL_CHARS))


def _nanoseconds(value: Any) -> int | None:
    """A Loki timestamp (a decimal string of nanoseconds), None when it is not one or is absurd
    (before 1970 or after 2200)."""
    if not isinstance(value, str) or not value.isdigit() or len(value) > 19:
        return None
    ns = int(value)
    return ns if 0 < ns < 7_258_118_400 * NS else None


def _line(entry: _Entry) -> LogLine | None:
    parsed = parse_any(bounded(entry.line, MAX_MESSAGE_CHARS))
    if parsed is None or not parsed.message.strip():
        return None
    return LogLine(entry.ns / NS, parsed.message, parsed.level, entry.pod)
