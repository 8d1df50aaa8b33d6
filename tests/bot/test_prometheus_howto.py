"""The README's "From an empty Prometheus to a diagnosis", run as written: its commands are taken
from the README (between the ``howto:prometheus`` markers) and run by bash in an empty directory,
with only the two ports changed to free ones - the exporter, promtool's backfill, Debian's
Prometheus scraping the exporter, and `medic investigate --json` on the default PromQL. The
diagnosis must find the scenario's anomalies in what Prometheus answered."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.services.binaries import free_port, require

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[2] / "README.md"
MARKED = re.compile(
    r"<!-- howto:prometheus -->\n```sh\n(.*?)```\n<!-- /howto:prometheus -->", re.DOTALL
)


def howto_commands() -> str:
    found = MARKED.search(README.read_text())
    assert found, "README.md lost its howto:prometheus block"
    return found.group(1)


def test_the_readme_takes_an_empty_prometheus_to_a_diagnosis(tmp_path: Path) -> None:
    for binary in ("prometheus", "promtool"):
        require(binary, "apt-get install prometheus")
    exporter, prometheus = free_port(), free_port()
    script = howto_commands().replace("9105", str(exporter)).replace("9090", str(prometheus))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(README.parent),
    }
    # Output to files, not pipes: the jobs the commands leave in the background keep a pipe open.
    out_file, err_file = tmp_path / "howto.out", tmp_path / "howto.err"
    with out_file.open("w") as out, err_file.open("w") as err:
        process = subprocess.Popen(
            ["bash", "-e", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,  # the background exporter and Prometheus: one group to stop
        )
    try:
        code = process.wait(timeout=600)
        assert code == 0, err_file.read_text()[-3000:]
        report = json.loads(out_file.read_text().strip().splitlines()[-1])
        scraped = httpx.get(
            f"http://127.0.0.1:{prometheus}/api/v1/query", params={"query": 'up{job="shop"}'}
        ).json()["data"]["result"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert [r["value"][1] for r in scraped] == ["1"]  # the present was scraped, too
    assert report["service"] == "recommender"
    assert {
        "latency_p95_ms",
        "error_ratio",
        "request_payload_bytes",
        "cpu_utilization_pct",
        "cache_memory_bytes",
    } <= set(report["anomalies"])
    assert report["notes"] == []  # every default query answered
    assert report["hypotheses"][0]["text"].startswith("Input size increase")
    assert report["drift"] == ["request_payload_bytes"]
