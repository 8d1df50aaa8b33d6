"""Elasticsearch or OpenSearch as a log source: ``POST /<index>/_search`` with the query DSL.

A bool query filters on the timestamp (a ``range`` in epoch milliseconds) and on the fields the
configuration maps to namespace and service (``term`` filters: keyword fields); hits are sorted
by the timestamp (then a tiebreaker field, when one is configured) and paged with
``search_after``, the last hit's ``sort`` values. The window is cut into slices, each with its
share of the lines, so that the whole window stays in view; the slices are requested at once,
at most ``concurrent_reads`` in flight per source. Each hit's time is its sort value
(epoch milliseconds, whatever the field's format); message, level and pod come from
``_source`` by their dotted paths (nested objects or dotted keys).

Shapes as Elasticsearch documents them (elastic.co/guide/en/elasticsearch/reference/current/
paginate-search-results.html and search-search.html): the answer
``{"hits": {"total": {"value": n, "relation": "eq"}, "hits": [{"_id", "_source", "sort"}]}}``;
an error ``{"error": {"root_cause": [{"type", "reason"}], "type", "reason"}, "status": 4xx}``.
OpenSearch answers the same for these requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from knowledge.errors import LogSourceError
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
from knowledge.logs import LEVELS, REMOTE_READS, LogLine, TimeLeft, parse_line


@dataclass(frozen=True)
class ElasticFields:
    """The document fields Medic reads and filters on."""

    timestamp: str = "@timestamp"
    message: str = "message"
    level: str = "log.level"
    namespace: str = "kubernetes.namespace"
    service: str = "kubernetes.labels.app"
    pod: str = "kubernetes.pod.name"
    tiebreaker: str | None = None


class ElasticsearchLogSource:
    """A ``LogSource`` over the Elasticsearch/OpenSearch search API (client injected, with its
    base URL and authentication headers)."""

    def __init__(
        self,
        client: httpx.Client,
        index: str,
        *,
        fields: ElasticFields | None = None,
        max_lines: int = 50_000,
        page_lines: int = 1000,
        max_response_bytes: int = 8 * 1024 * 1024,
        slices: int = 8,
        concurrent_reads: int = REMOTE_READS,
    ) -> None:
        self._client = client
        self._path = f"/{quote(index, safe=',*')}/_search"
        self._fields = fields or ElasticFields()
        self._max_lines = max_lines
        self._page = page_lines
        self._max_bytes = max_response_bytes
        self._slices = slices
        self.concurrent_reads = max(1, concurrent_reads)  # requests in flight at once, at most
        self._pool = slice_pool(self.concurrent_reads, "elastic-slices")
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
        self._count.reset()
        return read_sliced(
            start,
            end,
            self._slices,
            self._max_lines,
            lambda a, b, share: self._slice(namespace, service, a, b, share, time_left),
            pool=self._pool,
        )

    def _slice(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        want: int,
        time_left: TimeLeft | None,
    ) -> list[LogLine]:
        f = self._fields
        sort: list[dict[str, Any]] = [{f.timestamp: {"order": "asc", "format": "epoch_millis"}}]
        if f.tiebreaker:
            sort.append({f.tiebreaker: {"order": "asc"}})
        query = {
            "bool": {
                "filter": [
                    {
                        "range": {
                            f.timestamp: {
                                "gte": int(start * 1000),
                                "lt": int(end * 1000),
                                "format": "epoch_millis",
                            }
                        }
                    },
                    {"term": {f.namespace: namespace}},
                    {"term": {f.service: service}},
                ]
            }
        }
        wanted = [f.message, f.level, f.pod]
        out: list[LogLine] = []
        after: list[Any] | None = None
        while len(out) < want:
            size = min(self._page, want - len(out))
            body: dict[str, Any] = {
                "size": size,
                "query": query,
                "sort": sort,
                "_source": wanted,
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            hits = self._search(body, time_left)
            out += [line for hit in hits if (line := self._line(hit))][: want - len(out)]
            if len(hits) < size:
                break
            last = hits[-1].get("sort")
            if not isinstance(last, list) or not last or last == after:
                break  # no way on: a server that ignores search_after must not loop us
            after = last
        return out

    def _search(self, body: dict[str, Any], time_left: TimeLeft | None) -> list[dict[str, Any]]:
        self._count.add()
        answer = request_json(
            self._client,
            "POST",
            self._path,
            what="Elasticsearch's logs",
            max_bytes=self._max_bytes,
            time_left=time_left,
            body=body,
        )
        hits = answer.get("hits") if isinstance(answer, dict) else None
        inner = hits.get("hits") if isinstance(hits, dict) else None
        if not isinstance(inner, list):
            raise LogSourceError(
                f"Elasticsearch's logs: no hits in the answer {one_line(str(answer), 120)}"
            )
        return [hit for hit in inner if isinstance(hit, dict)]

    def _line(self, hit: dict[str, Any]) -> LogLine | None:
        """One hit as a log line; None without a readable time or message."""
        sort, source = hit.get("sort"), hit.get("_source")
        if not isinstance(source, dict) or not isinstance(sort, list) or not sort:
            return None
        millis = sort[0]
        if isinstance(millis, str) and millis.lstrip("-").isdigit():
            millis = int(millis)
        if not isinstance(millis, int | float) or not 0 < millis < 7_258_118_400_000:
            return None
        message = bounded(field(source, self._fields.message), MAX_MESSAGE_CHARS).strip()
        if not message:
            return None
        level = bounded(field(source, self._fields.level), 16).upper()
        parsed = parse_line(message, millis / 1000)
        return LogLine(
            millis / 1000,
            parsed.message,
            level if level in LEVELS else parsed.level,
            bounded(field(source, self._fields.pod), MAX_LABEL_CHARS),
        )


def field(source: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in a document's ``_source``: nested objects
    (``{"log": {"level": ...}}``), dotted keys (``{"log.level": ...}``) or a mix."""
    if path in source:
        return source[path]
    head, dot, rest = path.partition(".")
    while dot:
        inner = source.get(head)
        if isinstance(inner, dict):
            found = field(inner, rest)
            if found is not None:
                return found
        more, dot, rest = rest.partition(".")
        head = f"{head}.{more}"
    return None
