"""A real Alertmanager (Debian's ``prometheus-alertmanager``) on 127.0.0.1 for tests: a temporary
directory, a free port, no clustering; waits until ready and stops it afterwards.

Missing binary: skipped locally, a failure when MEDIC_CI=1 (CI must never silently skip).
Meant to move to ``tests/services/alertmanager.py`` next to the other service launchers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

BINARY = "prometheus-alertmanager"


@dataclass(frozen=True)
class Alertmanager:
    url: str

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binary() -> str:
    path = shutil.which(BINARY)
    if path is None:
        message = f"{BINARY} is not installed (apt-get install prometheus-alertmanager)"
        if os.environ.get("MEDIC_CI") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextlib.contextmanager
def running_alertmanager(tmp: Path, config: dict[str, Any]) -> Iterator[Alertmanager]:
    """Alertmanager with ``config`` (its YAML, as a dict), until the block ends."""
    (tmp / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            binary(),
            f"--config.file={tmp / 'alertmanager.yml'}",
            f"--storage.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url=http://127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {(tmp / 'alertmanager.log').read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("alertmanager did not become ready in 30 s")
        yield Alertmanager(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
