"""Loki and Elasticsearch as their documented HTTP APIs answer, on loopback, for contract tests of
the log sources (neither server installs here). Each holds a corpus of lines, answers the one
request Medic makes the way the documentation says, checks what it is asked (and refuses, with
the documented error shape, what a real server would refuse), and records every request.

Loki: ``GET /loki/api/v1/query_range`` (grafana.com/docs/loki/latest/reference/loki-http-api/):
``query`` a stream selector, ``start``/``end`` in nanoseconds (start inclusive, end exclusive),
``limit`` capped by ``max_entries_limit_per_query`` (5,000 by default: a larger limit is a 400),
``direction`` forward|backward; answers ``{"status": "success", "data": {"resultType":
"streams", "result": [{"stream": {...}, "values": [["<ns>", "<line>"]]}]}}``; errors are plain
text (400 "parse error ...", 401 "no org id" without ``X-Scope-OrgID`` on a multi-tenant Loki).

Elasticsearch: ``POST /<index>/_search`` (elastic.co/guide/en/elasticsearch/reference/current/
search-search.html, paginate-search-results.html): ``size`` at most 10,000
(index.max_result_window), a bool ``filter`` of ``range`` and ``term`` clauses, ``sort`` and
``search_after``; answers ``hits.hits[]`` with ``_id``, ``_source`` and ``sort``; errors are
``{"error": {"root_cause": [{"type", "reason"}], "type", "reason"}, "status": n}``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

SELECTOR = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')


@dataclass
class LokiEntry:
    ns: int
    labels: dict[str, str]
    line: str


@dataclass
class FakeLoki:
    entries: list[LokiEntry] = field(default_factory=list)
    max_entries: int = 5000  # Loki's max_entries_limit_per_query
    tenant: str | None = None  # when set, requests must carry X-Scope-OrgID: tenant
    token: str | None = None  # when set, requests must carry Authorization: Bearer token
    mode: str = "normal"  # normal | garbage | error | huge | nested | slow
    requests: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, str, bytes]:
        url = urlparse(handler.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.requests.append(params)
        self.headers.append(dict(handler.headers.items()))
        if url.path != "/loki/api/v1/query_range" or handler.command != "GET":
            return 404, "text/plain", b"404 page not found\n"
        if self.token and handler.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, "text/plain", b"authentication required\n"
        if self.tenant and handler.headers.get("X-Scope-OrgID") != self.tenant:
            return 401, "text/plain", b"no org id\n"
        if self.mode == "error":
            return 500, "text/plain", b"rpc error: code = Unavailable desc = <all ingesters down>\n"
        if self.mode == "garbage":
            return 200, "application/json", b'{"status": "success", "data": [1, 2, 3]}'
        if self.mode == "nested":
            return 200, "application/json", b"[" * 200_000 + b"]" * 200_000
        if self.mode == "huge":
            return 200, "application/json", b'{"status":"success","data":' + b" " * 5_000_000
        if self.mode == "slow":
            time.sleep(3)
        try:
            matchers = parse_selector(params["query"])
            start, end = int(params["start"]), int(params["end"])
            limit = int(params.get("limit", "100"))
            direction = params.get("direction", "backward")
        except (KeyError, ValueError) as exc:
            return 400, "text/plain", f"parse error : {exc}\n".encode()
        if limit > self.max_entries:
            return (
                400,
                "text/plain",
                (
                    f"max entries limit per query exceeded, limit > max_entries_limit "
                    f"({limit} > {self.max_entries})\n"
                ).encode(),
            )
        if direction not in ("forward", "backward"):
            return 400, "text/plain", b"invalid direction\n"
        chosen = [
            e
            for e in self.entries
            if start <= e.ns < end and all(e.labels.get(k) == v for k, v in matchers.items())
        ]
        chosen.sort(key=lambda e: e.ns, reverse=direction == "backward")
        chosen = chosen[:limit]
        streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
        for e in chosen:
            streams.setdefault(tuple(sorted(e.labels.items())), []).append([str(e.ns), e.line])
        body = {
            "status": "success",
            "data": {
                "resultType": "streams",
                "result": [{"stream": dict(k), "values": v} for k, v in streams.items()],
                "stats": {"summary": {"totalEntriesReturned": len(chosen)}},
            },
        }
        return 200, "application/json", json.dumps(body).encode()


def parse_selector(query: str) -> dict[str, str]:
    """``{a="x", b="y"}`` as LogQL's parser reads it; anything else is a parse error."""
    query = query.strip()
    if not (query.startswith("{") and query.endswith("}")):
        raise ValueError(f"syntax error: unexpected {query[:20]!r}")
    matchers: dict[str, str] = {}
    rest = query[1:-1]
    while rest.strip():
        m = SELECTOR.match(rest)
        if not m:
            raise ValueError(f"syntax error at {rest[:20]!r}")
        matchers[m.group(1)] = json.loads(f'"{m.group(2)}"')
        rest = rest[m.end() :]
        if rest.startswith(","):
            rest = rest[1:]
        elif rest.strip():
            raise ValueError(f"syntax error at {rest[:20]!r}")
    return matchers


@dataclass
class FakeElasticsearch:
    """Documents of one index pattern; ``index`` is what the URL must name."""

    index: str = "logs-*"
    docs: list[dict[str, Any]] = field(default_factory=list)
    api_key: str | None = None  # when set, requests must carry Authorization: ApiKey key
    mode: str = "normal"  # normal | garbage | ignore-search-after
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, str, bytes]:
        url = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        if self.api_key and handler.headers.get("Authorization") != f"ApiKey {self.api_key}":
            return _es_error(
                401, "security_exception", "missing authentication credentials for REST request"
            )
        parts = url.path.strip("/").split("/")
        if handler.command != "POST" or len(parts) != 2 or parts[1] != "_search":
            return _es_error(400, "illegal_argument_exception", f"no handler for {url.path}")
        if parts[0] != self.index:
            return _es_error(404, "index_not_found_exception", f"no such index [{parts[0]}]")
        try:
            body = json.loads(raw)
        except ValueError:
            return _es_error(400, "parse_exception", "request body is required")
        self.requests.append(body)
        if self.mode == "garbage":
            return 200, "application/json", b'{"took": 1, "hits": "none"}'
        size = body.get("size", 10)
        if not isinstance(size, int) or size > 10_000:
            return _es_error(
                400,
                "illegal_argument_exception",
                "Result window is too large, from + size must be less than or equal to: [10000]",
            )
        try:
            sort_fields = [next(iter(s)) for s in body["sort"]]
            filters = body["query"]["bool"]["filter"]
        except (KeyError, TypeError, StopIteration):
            return _es_error(400, "parsing_exception", "unknown query")
        chosen = [d for d in self.docs if all(_matches(d, f) for f in filters)]
        keys = [(_sort_values(d, sort_fields), d) for d in chosen]
        keys.sort(key=lambda kd: kd[0])
        after = body.get("search_after")
        if after is not None and self.mode != "ignore-search-after":
            if len(after) != len(sort_fields):
                return _es_error(
                    400,
                    "illegal_argument_exception",
                    "search_after has 1 value(s) but sort has 2.",
                )
            keys = [kd for kd in keys if kd[0] > tuple(after)]
        page = keys[:size]
        hits = [
            {
                "_index": "logs-2027.01.15",
                "_id": str(d.get("_id", i)),
                "_score": None,
                "_source": {k: v for k, v in d.items() if k != "_id"},
                "sort": list(key),
            }
            for i, (key, d) in enumerate(page)
        ]
        answer = {
            "took": 3,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"max_score": None, "hits": hits},
        }
        return 200, "application/json", json.dumps(answer).encode()


def _es_error(status: int, kind: str, reason: str) -> tuple[int, str, bytes]:
    cause = {"type": kind, "reason": reason}
    body = {"error": {"root_cause": [cause], **cause}, "status": status}
    return status, "application/json", json.dumps(body).encode()


def _flat(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return doc.get(path)
        value = value[part]
    return value


def _millis(doc: dict[str, Any]) -> int:
    """The document's ``@timestamp`` (ISO-8601) in epoch milliseconds, as a date sorts."""
    when = datetime.fromisoformat(str(doc["@timestamp"]).replace("Z", "+00:00"))
    return int(when.timestamp() * 1000)


def _matches(doc: dict[str, Any], clause: dict[str, Any]) -> bool:
    if "range" in clause:
        ((name, bounds),) = clause["range"].items()
        assert bounds.get("format") == "epoch_millis", bounds
        at = _millis(doc) if name == "@timestamp" else _flat(doc, name)
        return bool(bounds["gte"] <= at < bounds["lt"])
    if "term" in clause:
        ((name, value),) = clause["term"].items()
        return bool(_flat(doc, name) == value)
    raise AssertionError(f"unexpected clause {clause}")


def _sort_values(doc: dict[str, Any], names: list[str]) -> tuple[Any, ...]:
    return tuple(_millis(doc) if n == "@timestamp" else _flat(doc, n) for n in names)


@contextmanager
def serving(fake: FakeLoki | FakeElasticsearch) -> Iterator[str]:
    """``fake`` on a loopback port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _serve(self) -> None:
            status, kind, body = fake.answer(self)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
