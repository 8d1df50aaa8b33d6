"""A real Alertmanager (Debian ``prometheus-alertmanager``) on 127.0.0.1: an ephemeral port, a
temporary data dir, clustering off; ready before use, stopped afterwards."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.services.binaries import free_port, require, stop, wait_until

BLACKHOLE = {"route": {"receiver": "blackhole"}, "receivers": [{"name": "blackhole"}]}


@dataclass(frozen=True)
class Alertmanager:
    url: str

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()


@contextlib.contextmanager
def running_alertmanager(
    tmp: Path, config: dict[str, Any] | None = None, port: int | None = None
) -> Iterator[Alertmanager]:
    """Alertmanager with ``config`` (its YAML as a dict; default: route everything nowhere), on
    ``port`` (default: a free one; the same one again is a restart)."""
    binary = require("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
    config_file = tmp / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(config or BLACKHOLE))
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url={url}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: httpx.get(f"{url}/-/ready").status_code == 200, "alertmanager", process)
        yield Alertmanager(url)
    finally:
        stop(process)


@pytest.fixture
def alertmanager_url(tmp_path: Path) -> Iterator[str]:
    with running_alertmanager(tmp_path) as alertmanager:
        yield alertmanager.url
