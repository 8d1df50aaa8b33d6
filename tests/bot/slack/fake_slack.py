"""A local fake of the Slack Web API for tests (the way bolt-python's tests mock it): an HTTP server
on an ephemeral port that records every call and payload, keeps messages as a Slack client would
show them (updates applied), accepts file uploads and response_url posts, and can misbehave on
request: 429 with Retry-After, ``invalid_blocks``, 5xx, a call done but answered too late (a
timeout), or down altogether.

Its Block Kit checks are written independently of Medic's, so they catch a renderer that breaks
Slack's limits.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

NO_ANSWER: tuple[int, dict[str, str], bytes] = (0, {}, b"")  # hang up instead of answering
BOT_USER = "UMEDICBOT"
BOT_ID = "BMEDIC"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    updates: int = 0
    metadata: dict[str, Any] | None = None

    def all_text(self) -> str:
        """Everything a reader sees in the message, as one string (entities decoded)."""
        parts = [self.text]
        for block in self.blocks:
            parts.append(str(block.get("text", {}).get("text", "")))
            parts += [str(f.get("text", "")) for f in block.get("fields", [])]
            parts += [
                e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)
            ]
        return decode("\n".join(parts))

    def buttons(self) -> list[dict[str, Any]]:
        return [
            e
            for b in self.blocks
            if b.get("type") == "actions"
            for e in b.get("elements", [])
            if e.get("type") == "button"
        ]

    def button(self, action_id: str, about: str) -> dict[str, Any]:
        """The ``action_id`` button whose confirm dialog mentions ``about``."""
        found = [
            b
            for b in self.buttons()
            if b["action_id"] == action_id and about in b["confirm"]["text"]["text"]
        ]
        assert len(found) == 1, f"no single {action_id} button about {about!r}"
        return found[0]


@dataclass
class File:
    id: str
    filename: str = ""
    title: str = ""
    content: bytes = b""
    channel: str = ""
    thread_ts: str | None = None
    initial_comment: str = ""
    ts: str = ""  # the message that shared it in its channel or thread


@dataclass
class Fault:
    kind: str  # "ratelimited", "server_error", "invalid_blocks", "timeout"
    times: int
    retry_after: int = 1  # ratelimited: the Retry-After header; timeout: seconds before answering


def block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Slack's own limits, checked the simple way."""
    problems = []
    if len(blocks) > 50:
        problems.append("too many blocks")
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and len(text.get("text", "")) > (
            150 if block.get("type") == "header" else 3000
        ):
            problems.append("text too long")
        for element in block.get("elements", []):
            if element.get("type") == "button":
                if len(element["text"]["text"]) > 75:
                    problems.append("button text too long")
                if len(element.get("value", "")) > 2000:
                    problems.append("value too long")
    return problems


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)
    files: list[File] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    usergroups: list[dict[str, Any]] = field(default_factory=list)
    socket_url: str = ""
    is_down: bool = False
    faults: dict[str, list[Fault]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:  # the conversations.* reads
                path, _, query = self.path.partition("?")
                self._answer(*fake._handle(path, {}, query.encode()))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                self._answer(*fake._handle(self.path, self.headers, raw))

            def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
                if status == NO_ANSWER[0]:
                    self.close_connection = True  # hang up without a word
                    return
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- misbehaving on request ------------------------------------------------------------------
    def fail(self, method: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` fail with ``kind``; a ``timeout`` does the call,
        then waits ``retry_after`` seconds (the client gives up first) and hangs up unanswered."""
        with self._lock:
            self.faults.setdefault(method, []).append(Fault(kind, times, retry_after))

    def _fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(method) or []
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    # --- what a user would see -------------------------------------------------------------------
    def roots(self, channel: str | None = None) -> list[Message]:
        with self._lock:
            return [
                m
                for m in self.messages.values()
                if m.thread_ts is None and (channel is None or m.channel == channel)
            ]

    def thread(self, root_ts: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages.values() if m.thread_ts == root_ts]

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def ephemeral_texts(self) -> list[str]:
        with self._lock:
            return [decode(str(r.get("text", ""))) for r in self.responses]

    # --- the API ---------------------------------------------------------------------------------
    def _handle(self, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, str], Any]:
        if path.startswith("/upload/"):
            return self._upload(path.rsplit("/", 1)[1], raw)
        if path.startswith("/response/"):
            with self._lock:
                self.responses.append(json.loads(raw or b"{}"))
            return 200, {"Content-Type": "text/plain"}, b"ok"
        method = path.removeprefix("/api/").split("?")[0]
        args = _args(headers.get("Content-Type", ""), raw)
        with self._lock:
            self.calls.append(Call(method, args))
        if self.is_down:
            return 503, {"Content-Type": "text/html"}, b"<html>Slack is down</html>"
        fault = self._fault(method)
        if fault is not None and fault.kind == "timeout":
            self._call(method, args)
            time.sleep(fault.retry_after)
            return NO_ANSWER
        if fault is not None:
            if fault.kind == "ratelimited":
                return (
                    429,
                    {"Retry-After": str(fault.retry_after)},
                    {"ok": False, "error": "ratelimited"},
                )
            if fault.kind == "server_error":
                return 500, {"Content-Type": "text/plain"}, b"internal error"
            return 200, {}, {"ok": False, "error": fault.kind}
        return self._call(method, args)

    def _call(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "apps.connections.open": self._connections_open,
            "usergroups.list": self._usergroups,
            "conversations.replies": self._replies,
            "conversations.history": self._history,
        }.get(method)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        return 200, {"Content-Type": "application/json"}, handler(args)

    def _next_ts(self) -> str:
        return f"1800000000.{next(self._ts):06d}"

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T1", "team": "t"}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = _blocks(args)
        if block_problems(blocks):
            return {"ok": False, "error": "invalid_blocks"}
        ts = self._next_ts()
        metadata = args.get("metadata")
        message = Message(
            args["channel"],
            ts,
            str(args.get("text", "")),
            blocks,
            args.get("thread_ts"),
            metadata=json.loads(metadata) if isinstance(metadata, str) else metadata,
        )
        with self._lock:
            self.messages[ts] = message
        return {"ok": True, "channel": message.channel, "ts": ts}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = _blocks(args)
        if block_problems(blocks):
            return {"ok": False, "error": "invalid_blocks"}
        with self._lock:
            message = self.messages.get(args["ts"])
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.text, message.blocks = str(args.get("text", "")), blocks
            message.updates += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.responses.append(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        file = File(id=f"F{next(self._ids):06d}", filename=str(args.get("filename", "")))
        with self._lock:
            self.files.append(file)
        return {"ok": True, "upload_url": f"{self.url}/upload/{file.id}", "file_id": file.id}

    def _upload(self, file_id: str, raw: bytes) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            for file in self.files:
                if file.id == file_id:
                    file.content = raw
        return 200, {"Content-Type": "text/plain"}, b"OK - " + str(len(raw)).encode()

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        described = json.loads(args["files"]) if isinstance(args["files"], str) else args["files"]
        done = []
        with self._lock:
            for item in described:
                for file in self.files:
                    if file.id == item["id"]:
                        file.title = item.get("title") or ""
                        file.channel = str(args.get("channel_id", ""))
                        file.thread_ts = args.get("thread_ts")
                        file.initial_comment = str(args.get("initial_comment", ""))
                        file.ts = self._next_ts()
                        done.append({"id": file.id, "title": file.title})
        return {"ok": True, "files": done}

    def _connections_open(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url}

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its root, then its replies - the files shared in it among them, as Slack
        lists a file share - oldest first."""
        with self._lock:
            found = [m for m in self.messages.values() if m.channel == args["channel"]
                     and args["ts"] in (m.ts, m.thread_ts)]  # fmt: skip
            shared = [f for f in self.files if f.ts and f.channel == args["channel"]
                      and f.thread_ts == args["ts"]]  # fmt: skip
        listed = self._listed(found, args)
        oldest = float(args.get("oldest") or 0)
        listed["messages"] = sorted(
            listed["messages"] + [_share(f) for f in shared if float(f.ts) > oldest],
            key=lambda m: float(m["ts"]),
        )
        return listed

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """A channel's own messages (not thread replies), newest first."""
        with self._lock:
            found = [m for m in self.messages.values()
                     if m.channel == args["channel"] and m.thread_ts is None]  # fmt: skip
        return self._listed(found[::-1], args)

    def _listed(self, found: list[Message], args: dict[str, Any]) -> dict[str, Any]:
        oldest = float(args.get("oldest") or 0)
        metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        return {
            "ok": True,
            "messages": [
                {"ts": m.ts, "text": m.text, "thread_ts": m.thread_ts}
                | ({"metadata": m.metadata} if metadata and m.metadata else {})
                for m in found
                if float(m.ts) > oldest
            ],
        }

    def _usergroups(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "usergroups": self.usergroups}

    def uploaded(self, thread_ts: str | None = None) -> Iterator[File]:
        with self._lock:
            files = list(self.files)
        return (f for f in files if f.content and (thread_ts is None or f.thread_ts == thread_ts))


def decode(text: str) -> str:
    """Slack's entities as a reader sees them."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _args(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        return dict(json.loads(raw))
    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def _share(file: File) -> dict[str, Any]:
    """The message that shares ``file`` in its thread, as conversations.replies lists it."""
    described = {"id": file.id, "name": file.filename, "title": file.title,
                 "size": len(file.content)}  # fmt: skip
    return {"ts": file.ts, "text": file.initial_comment, "thread_ts": file.thread_ts,
            "files": [described]}  # fmt: skip
