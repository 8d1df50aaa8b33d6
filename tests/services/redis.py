"""A real Redis (Debian ``redis-server``) on 127.0.0.1, an ephemeral port and a temporary dir."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.services.binaries import free_port, require, stop, wait_until


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = require("redis-server", "apt-get install redis-server")
    port = free_port()
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
