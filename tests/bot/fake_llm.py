"""A small OpenAI-compatible chat server on loopback, for the LLM planner with a real provider
(langchain-openai) and for the LLM's fault suite. Modes:

- ``normal``: answers ``POST /v1/chat/completions`` with the scripted replies in turn (then a
  plain "done"), each an assistant message with text and/or tool calls;
- ``error``: HTTP 500 with an OpenAI-style error body;
- ``garbage``: HTTP 200 whose body is not a chat completion;
- ``hang``: reads the request and never answers, until the client gives up (closes the
  connection) or the server stops.

It records every request body, how many requests were open at once, and how many the client
abandoned while waiting - so a test can see that the HTTP call itself ended, not just Medic's
wait for it.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def tool_call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "arguments": json.dumps(args)}


def reply(content: str = "", *calls: dict[str, Any]) -> dict[str, Any]:
    """One scripted assistant message: text and/or tool calls (from :func:`tool_call`)."""
    return {"content": content, "tool_calls": list(calls)}


@dataclass
class FakeLLM:
    mode: str = "normal"
    replies: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    open_now: int = 0
    most_open: int = 0
    abandoned: int = 0  # requests whose client closed the connection while waiting

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._script: Iterator[dict[str, Any]] = iter(())
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.open_now += 1
                    fake.most_open = max(fake.most_open, fake.open_now)
                try:
                    fake._answer(self)
                finally:
                    with fake._lock:
                        fake.open_now -= 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def script(self, *replies: dict[str, Any]) -> None:
        with self._lock:
            self._script = iter(replies)

    def close(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def prompts(self) -> list[str]:
        """The user messages of every request, in order."""
        with self._lock:
            return [
                str(m.get("content"))
                for body in self.requests
                for m in body.get("messages", [])
                if m.get("role") == "user"
            ]

    # --- answering --------------------------------------------------------------------------
    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "hang":
            self._hang(handler.connection)
            return
        if self.mode == "error":
            self._send(
                handler, 500, {"error": {"message": "model crashed", "type": "server_error"}}
            )
            return
        if self.mode == "garbage":
            self._send(handler, 200, b"<html>502 Bad Gateway, or is it</html>")
            return
        with self._lock:
            scripted = next(self._script, reply("done"))
        self._send(handler, 200, self._completion(scripted))

    def _hang(self, connection: socket.socket) -> None:
        """Answer nothing; return when the client closes the connection (or the server stops)."""
        poller = select.poll()  # not select(): it fails on descriptors above 1023
        poller.register(connection, select.POLLIN)
        while not self._stopping.is_set():
            readable = poller.poll(50)
            if readable and not connection.recv(1, socket.MSG_PEEK):
                with self._lock:
                    self.abandoned += 1
                return

    def _completion(self, scripted: dict[str, Any]) -> dict[str, Any]:
        calls = [
            {"id": f"call_{next(self._ids)}", "type": "function", "function": call}
            for call in scripted["tool_calls"]
        ]
        message: dict[str, Any] = {"role": "assistant", "content": scripted["content"] or None}
        if calls:
            message["tool_calls"] = calls
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": 1_800_000_000,
            "model": "gpt-test",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
