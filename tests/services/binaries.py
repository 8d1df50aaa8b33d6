"""Shared plumbing for the real-service launchers: find a binary (skip locally, fail in CI when
MEDIC_CI=1), pick a free loopback port, wait until a service answers, stop it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def require(binary: str, install: str) -> str:
    """The path of ``binary``; a missing one skips the test locally and fails it in CI, saying
    how to ``install`` it."""
    found = shutil.which(binary) or (binary if Path(binary).is_file() else None)
    if found is None:
        message = f"{binary} not found: {install}"
        if os.environ.get("MEDIC_CI") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    ready: Callable[[], bool],
    what: str,
    process: subprocess.Popen[bytes] | None,
    timeout: float = 120.0,  # generous: a busy CI machine; one that never starts still fails
    log: Path | None = None,
) -> None:
    """Poll ``ready`` until it is true; a service that exits or stays unready fails the test with
    the tail of its ``log``."""

    def tail() -> str:
        return f":\n{log.read_text(errors='replace')[-2000:]}" if log and log.exists() else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            code = process.returncode
            raise RuntimeError(f"{what} exited with {code} before it was ready{tail()}")
        try:
            if ready():
                return
        except Exception:  # not listening yet: any client error means "try again"
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready after {timeout:.0f} s{tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
