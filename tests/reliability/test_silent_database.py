"""A state database server that accepts connections and never answers (a stopped VM behind a
live load balancer, a firewall that keeps the handshake and drops the rest, a proxy pointing
nowhere): Medic says so in one line within its connect timeout, exit 2, instead of hanging - and
its error never shows the URL's credentials."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.cli.app import app

HANG = 60  # seconds after which the command is taken for hung (it used to wait for ever)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose kernel completes every TCP handshake (the listen backlog) while nothing
    ever reads or answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield int(listener.getsockname()[1])


def test_a_database_that_never_answers_is_one_line_without_its_secrets(
    silent_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = (
        f"postgresql+psycopg://medic:pw-in-the-url@127.0.0.1:{silent_port}/medic"
        "?sslpassword=pw-in-the-query"
    )
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEDIC_DATABASE_URL", url)
    monkeypatch.setenv("MEDIC_DATABASE__CONNECT_TIMEOUT_SECONDS", "1")
    done: list[Result] = []
    medic = threading.Thread(
        target=lambda: done.append(CliRunner().invoke(app, ["audit", "list"])), daemon=True
    )
    medic.start()
    medic.join(HANG)
    assert done, f"`medic audit list` still waiting after {HANG} s"
    assert done[0].exit_code == 2 and done[0].stdout == ""
    assert done[0].stderr == (
        f"medic: cannot connect to the state database 'postgresql+psycopg://127.0.0.1:"
        f"{silent_port}/medic': connection timeout expired; check database_url "
        "(MEDIC_DATABASE_URL) and that the server is up\n"
    )
