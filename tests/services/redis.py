"""A real Redis (Debian ``redis-server``) on 127.0.0.1, an ephemeral port and a temporary dir."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.services.binaries import free_port, require, stop, wait_until


@contextlib.contextmanager
def running_redis(tmp_path: Path, port: int | None = None) -> Iterator[str]:
    """redis-server on ``port`` (default: a free one); its URL. Started again on the same port,
    it is the same Redis to its clients (a restart)."""
    binary = require("redis-server", "apt-get install redis-server")
    port = port or free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(tmp_path),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: bool(redis.Redis.from_url(url).ping()), "redis-server", process)
        yield url
    finally:
        stop(process)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with running_redis(tmp_path) as url:
        yield url
