"""A real VictoriaMetrics for tests (Debian's ``victoria-metrics``): started on 127.0.0.1 with an
ephemeral port and a temporary data directory, backfilled through its Prometheus text import
(``POST /api/v1/import/prometheus``, timestamps in milliseconds), flushed so that the samples are
searchable at once, stopped afterwards. It serves the Prometheus query API, which Medic's
Prometheus metric source reads unchanged.

A missing binary skips the test locally and fails it in CI (``MEDIC_CI=1``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.services.binaries import free_port, require, stop, wait_until


@contextmanager
def running_victoriametrics(tmp: Path, exposition: str) -> Iterator[str]:
    """Start VictoriaMetrics, import ``exposition`` (Prometheus text format with millisecond
    timestamps), yield its URL."""
    binary = require("victoria-metrics", "apt-get install victoria-metrics")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "victoria-metrics.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"-httpListenAddr=127.0.0.1:{port}",
                f"-storageDataPath={tmp / 'data'}",
                "-retentionPeriod=100y",
                "-search.disableCache",
                "-search.latencyOffset=0s",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: httpx.get(f"{url}/health", timeout=1.0).status_code == 200,
                "victoria-metrics",
                process,
                log=log,
            )
            answer = httpx.post(
                f"{url}/api/v1/import/prometheus", content=exposition.encode(), timeout=60.0
            )
            answer.raise_for_status()
            httpx.get(f"{url}/internal/force_flush", timeout=30.0).raise_for_status()
            yield url
        finally:
            stop(process)


def exposition(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]],
) -> str:
    """Prometheus text lines with timestamps: {(name, labels): [(unix seconds, value), ...]}."""
    lines = []
    for (name, labels), points in samples.items():
        selector = ",".join(f'{k}="{v}"' for k, v in labels)
        lines += [f"{name}{{{selector}}} {value} {round(ts * 1000)}" for ts, value in points]
    return "\n".join(lines) + "\n"
