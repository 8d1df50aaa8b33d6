"""A TCP server on loopback that accepts every connection and then stalls: it never answers
(``silent``: a stopped VM behind a live address, a firewall that keeps the handshake, a proxy
pointing nowhere), or answers one byte every ``interval`` seconds for ever (``trickle``: each
read is quick, the answer never ends - slowloris in reverse). Protocol-agnostic, so every
outbound client (Redis, PostgreSQL, HTTP) can be run against it through its real adapter;
``stalling.py`` beside it is the HTTP-aware variant (it reads the request first)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Stalling:
    """The running server: its port, and how many connections it has accepted."""

    port: int
    accepted: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url_host(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def stalling_tcp(
    mode: Literal["silent", "trickle"] = "silent",
    *,
    port: int = 0,
    interval: float = 0.2,
    byte: bytes = b"+",
) -> Iterator[Stalling]:
    """Yields the server; on ``trickle`` each connection gets ``byte`` every ``interval``
    seconds (a Redis simple string that never ends, by default). Everything it is sent is read
    and dropped, so a client's writes never block on a full buffer."""
    listener = socket.create_server(("127.0.0.1", port), backlog=128)
    server = Stalling(int(listener.getsockname()[1]))
    closing = threading.Event()
    held: list[socket.socket] = []

    def serve(conn: socket.socket) -> None:
        conn.settimeout(interval)
        with suppress(OSError):
            while not closing.is_set():
                try:
                    if not conn.recv(65536):
                        return  # the client gave up
                except TimeoutError:
                    pass
                if mode == "trickle":
                    conn.sendall(byte)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with server._lock:
                server.accepted += 1
                held.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server
    finally:
        closing.set()
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        with server._lock:
            for conn in held:
                with suppress(OSError):
                    conn.close()


class FreezingProxy:
    """A TCP proxy in front of a real server (PostgreSQL) that can freeze: from :meth:`freeze`
    on - or from the first chunk a client sends containing ``freeze_on`` - nothing more goes
    either way, while every connection stays open (the server frozen mid-query, as a stopped
    VM, a SIGSTOPped backend or a proxy keeping a dead connection leave it). :meth:`thaw`
    forwards again; what was held is delivered."""

    def __init__(self, upstream_port: int, freeze_on: bytes | None = None) -> None:
        self._upstream = upstream_port
        self._freeze_on = freeze_on
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._flowing = threading.Event()
        self._flowing.set()
        self.froze = threading.Event()  # set once it has frozen
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._flowing.clear()
        self.froze.set()

    def thaw(self) -> None:
        self._freeze_on = None
        self._flowing.set()

    def close(self) -> None:
        self.thaw()
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._upstream))
            for source, sink, watch in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(source, sink, watch), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, watch: bool) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if watch and self._freeze_on is not None and self._freeze_on in data:
                    self.freeze()
                self._flowing.wait()
                sink.sendall(data)
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
