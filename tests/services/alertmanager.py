"""A real Alertmanager (Debian ``prometheus-alertmanager``) on 127.0.0.1, an ephemeral port, a
temporary data dir, clustering off."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.services.binaries import free_port, require, stop, wait_until

CONFIG = """
route:
  receiver: blackhole
receivers:
  - name: blackhole
"""


@pytest.fixture
def alertmanager_url(tmp_path: Path) -> Iterator[str]:
    binary = require("prometheus-alertmanager", "prometheus-alertmanager")
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG)
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/-/ready").status_code == 200, "alertmanager", process)
        yield url
    finally:
        stop(process)
