"""A slow HTTP server on loopback, for the faults no real server shows on demand: it reads the
request and then never answers (``silent``), or answers 200 and sends its body one byte every
``interval`` seconds for ever (``trickle``: each read is quick, the answer never ends)."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal


@contextmanager
def stalling_server(
    mode: Literal["silent", "trickle"], interval: float = 0.05
) -> Iterator[tuple[str, threading.Event]]:
    """Yields the server's URL and an event set when a request has arrived."""
    arrived = threading.Event()
    closing = threading.Event()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # the request line and headers
            arrived.set()
            if mode == "trickle":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 100000000\r\n\r\n")  # fmt: skip
            try:
                while not closing.wait(interval):
                    if mode == "trickle":
                        self.wfile.write(b" ")
                        self.wfile.flush()
            except OSError:
                return  # the client gave up

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}", arrived
        finally:
            closing.set()
            server.shutdown()
            time.sleep(interval)
