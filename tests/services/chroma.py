"""A real Chroma server (`chroma run` from the chromadb package) on 127.0.0.1, an ephemeral port
and a temporary directory, for tests of Medic's server mode."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.services.binaries import free_port, require, stop, wait_until


@contextmanager
def chroma_server(path: Path, timeout: float = 60.0) -> Iterator[str]:
    """Start the server; yields its URL; stops it afterwards."""
    with chroma_process(path, timeout) as (url, _):
        yield url


@contextmanager
def chroma_process(
    path: Path, timeout: float = 60.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the server; yields its URL and process (to freeze it, say); stops it afterwards."""
    beside = Path(sys.executable).with_name("chroma")  # the virtualenv's, not a stray one on PATH
    binary = str(beside) if beside.exists() else require("chroma", "pip install chromadb")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = path.parent / "chroma-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        try:
            wait_until(
                lambda: httpx.get(f"{url}/api/v2/heartbeat", timeout=1).is_success,
                "chroma",
                process,
                timeout,
                log,
            )
            yield url, process
        finally:
            stop(process)


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with chroma_server(tmp_path / "chroma-server") as url:
        yield url
