"""Faults of the state database, made on purpose: another process holding SQLite's write lock,
and a PostgreSQL connection cut right after the server committed (the answer lost)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from threading import Event

LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


@contextmanager
def write_locked(db: Path) -> Iterator[Callable[[], None]]:
    """Another process holds ``db``'s write lock (as a backup or an admin's open transaction
    would) until the returned function is called, or the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"

    def release() -> None:
        if holder.poll() is None:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.close()
            holder.wait(10)

    try:
        yield release
    finally:
        release()


class CommitAnswerLost:
    """A TCP proxy in front of PostgreSQL. Once :meth:`arm` ed, it forwards the next COMMIT to the
    server and cuts the connection as the server's answer comes back: the transaction is
    committed, and the client only learns that its connection died."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._armed = threading.Event()
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self) -> None:
        self._armed.set()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._upstream))
            cut = threading.Event()
            for pump in (self._to_server, self._to_client):
                threading.Thread(target=pump, args=(client, server, cut), daemon=True).start()

    def _to_server(self, client: socket.socket, server: socket.socket, cut: Event) -> None:
        with suppress(OSError):
            while data := client.recv(65536):
                if self._armed.is_set() and b"COMMIT" in data:
                    self._armed.clear()
                    cut.set()  # before the COMMIT leaves: its answer is certainly dropped
                server.sendall(data)
        _close(client, server)

    def _to_client(self, client: socket.socket, server: socket.socket, cut: Event) -> None:
        with suppress(OSError):
            while data := server.recv(65536):
                if cut.is_set():
                    self.cuts += 1
                    break
                client.sendall(data)
        _close(client, server)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
