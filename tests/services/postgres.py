"""A real PostgreSQL 15 on 127.0.0.1, an ephemeral port and a temporary data dir: one started once
per test session for the tests that share it, and :func:`running_postgres` for a test (or a
benchmark) that needs a server of its own - to stop and start it under Medic, say. As root, the
server runs as the ``postgres`` user (it refuses to run as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.services.binaries import free_port, require, wait_until

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PostgresServer:
    """A running server: its admin URL, and stop/start as an operator would restart it."""

    def __init__(self, pg_ctl: str, root: Path, port: int) -> None:
        self._pg_ctl = pg_ctl
        self.root = root
        self.data = root / "data"
        self.port = port
        user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        self.url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
        self.user = user

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        # -t: pg_ctl's own wait is 60 s by default, short for a busy CI machine
        subprocess.run(
            _as_server_user([self._pg_ctl, "-D", str(self.data), "-o", options, "-l",
                             str(self.root / "log"), "-w", "-t", "120", "start"]),
            check=True,
            capture_output=True,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: roll back open transactions and close every connection, as a restart does."""
        subprocess.run(
            _as_server_user([self._pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"]),
            capture_output=True,
            check=False,
        )

    def database(self) -> str:
        """The URL of a fresh, empty database on this server."""
        return fresh_database(self.url)


def fresh_database(admin_url: str) -> str:
    name = f"t{os.urandom(6).hex()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    pg_ctl = require(str(BIN / "pg_ctl"), "apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="medic-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(pg_ctl, root, free_port())
    subprocess.run(
        _as_server_user([str(BIN / "initdb"), "-D", str(server.data), "-U", server.user,
                         "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )  # fmt: skip
    server.start()
    try:
        engine = create_engine(server.url)
        wait_until(lambda: engine.connect().close() is None, "postgres", None)
        engine.dispose()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The admin URL of a running server (trust authentication on loopback only)."""
    with running_postgres() as server:
        yield server.url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    url = fresh_database(postgres_server)
    yield url
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
