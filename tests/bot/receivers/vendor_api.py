"""A local stand-in for PagerDuty's and Opsgenie's REST APIs: it checks each request against the
documented shape (path, headers, JSON body) and answers with what it is scripted to - the
documented success (PagerDuty 201, Opsgenie 202) or documented errors (429 with Retry-After, 5xx,
401). Every request is recorded, so a test reads what reached the vendor."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PD_TOKEN = "pd-api-token"
PD_FROM = "medic@example.com"
GENIE_KEY = "genie-key-1"


@dataclass
class Call:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    problem: str | None  # what in the request is not as documented


@dataclass
class VendorApi:
    url: str = ""
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answers, in order
    calls: list[Call] = field(default_factory=list)
    # When set, every request waits for it (at most 60 s) before it is answered: a vendor API
    # that hangs.
    hold: threading.Event | None = None

    def notes(self) -> list[Call]:
        return [c for c in self.calls if c.problem is None]


def _problem(path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any) -> (
        str | None):  # fmt: skip
    parts = path.strip("/").split("/")
    if parts[0] == "incidents":  # PagerDuty: POST /incidents/{id}/notes
        if len(parts) != 3 or parts[2] != "notes":
            return f"unknown path {path}"
        if headers.get("authorization") != f"Token token={PD_TOKEN}":
            return "401"
        if headers.get("from") != PD_FROM:
            return "From header missing"
        if headers.get("accept") != "application/vnd.pagerduty+json;version=2":
            return "Accept header not the REST API v2's"
        if not (isinstance(body, dict) and isinstance(body.get("note"), dict)
                and isinstance(body["note"].get("content"), str)):  # fmt: skip
            return "body is not {note: {content}}"
        return None
    if parts[:2] == ["v2", "alerts"]:  # Opsgenie: POST /v2/alerts/{id}/notes?identifierType=id
        if len(parts) != 4 or parts[3] != "notes":
            return f"unknown path {path}"
        if headers.get("authorization") != f"GenieKey {GENIE_KEY}":
            return "401"
        if query.get("identifierType") not in (None, ["id"]):
            return "identifierType"
        if not (isinstance(body, dict) and isinstance(body.get("note"), str)):
            return "body is not {note}"
        return None
    return f"unknown path {path}"


@contextmanager
def running_vendor_api() -> Iterator[VendorApi]:
    api = VendorApi()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = parse_qs(split.query)
            problem = _problem(split.path, query, headers, body)
            api.calls.append(Call(split.path, query, headers, body, problem))
            if api.hold is not None:
                api.hold.wait(timeout=60)
            if problem == "401":
                self._answer(401, {}, {"error": "Unauthorized"})
            elif problem is not None:
                self._answer(400, {}, {"error": problem})
            elif api.script:
                status, extra = api.script.pop(0)
                self._answer(status, extra, {"error": {"message": "scripted", "code": status}})
            else:
                ok = 201 if split.path.startswith("/incidents") else 202
                self._answer(ok, {}, {"result": "Request will be processed", "requestId": "r1"})

        def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
