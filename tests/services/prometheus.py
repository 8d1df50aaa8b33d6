"""A real Prometheus for tests: backfilled with OpenMetrics text by ``promtool``, started on
127.0.0.1 with an ephemeral port and a temporary data directory, stopped afterwards.

Missing binaries skip the test locally and fail it in CI (``MEDIC_CI=1``), so CI never silently
skips the real-server tests.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.services.binaries import free_port, require, stop, wait_until


@contextmanager
def running_prometheus(tmp: Path, openmetrics: str) -> Iterator[str]:
    """Backfill ``openmetrics`` (must end with ``# EOF``), start Prometheus on it, yield its URL."""
    prometheus = require("prometheus", "apt-get install prometheus")
    promtool = require("promtool", "apt-get install prometheus")
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
    url = f"http://127.0.0.1:{port}"
    log = tmp / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=30d",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200,
                "prometheus",
                process,
                log=log,
            )
            yield url
        finally:
            stop(process)


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
