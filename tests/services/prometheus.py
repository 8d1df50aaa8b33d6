"""A real Prometheus for tests: backfilled with OpenMetrics text by ``promtool``, started on
127.0.0.1 with an ephemeral port and a temporary data directory, stopped afterwards.

Missing binaries skip the test locally and fail it in CI (``MEDIC_CI=1``), so CI never silently
skips the real-server tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

READY_TIMEOUT = 30.0
# Read at import: the autouse clean_environ fixture removes MEDIC_* variables before each test.
IN_CI = os.environ.get("MEDIC_CI") == "1"


def _binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path is None:
        message = f"{name} is not installed (Debian package 'prometheus')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_prometheus(tmp: Path, openmetrics: str) -> Iterator[str]:
    """Backfill ``openmetrics`` (must end with ``# EOF``), start Prometheus on it, yield its URL."""
    prometheus, promtool = _binary("prometheus"), _binary("promtool")
    tmp.mkdir(parents=True, exist_ok=True)
    data = tmp / "tsdb"
    source = tmp / "backfill.om"
    source.write_text(openmetrics)
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        check=True,
        capture_output=True,
    )
    config = tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    log = (tmp / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=30d",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, tmp / "prometheus.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited early:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus not ready after {READY_TIMEOUT} s:\n{log.read_text()[-2000:]}")


def openmetrics_gauges(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]],
) -> str:
    """OpenMetrics text for gauges: {(name, labels): [(unix seconds, value), ...]}."""
    lines = []
    for name in sorted({name for name, _ in samples}):
        lines.append(f"# TYPE {name} gauge")
        for (metric, labels), points in samples.items():
            if metric != name:
                continue
            selector = ",".join(f'{k}="{v}"' for k, v in labels)
            for ts, value in points:
                lines.append(f"{name}{{{selector}}} {value} {ts:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
