"""`medic sim export` on its own: the history file is OpenMetrics promtool can read, with the
series and labels the default PromQL needs; a scrape answers in Prometheus' text format; bad
options are one line and exit 2."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.parser import text_string_to_metric_families as prometheus_text
from typer.testing import CliRunner

from bot.cli.app import app
from tests.services.binaries import free_port, stop, wait_until
from tools.clock import SystemClock
from tools.sim import SCENARIOS, SimulatedCluster
from tools.sim.exposition import BUCKETS, ShopCollector, history_start, shop_families


def test_the_history_file_has_the_series_the_default_promql_reads(tmp_path: Path) -> None:
    path = tmp_path / "shop.om"
    result = CliRunner().invoke(
        app, ["sim", "export", "--openmetrics", str(path), "--history", "10m"]
    )
    assert result.exit_code == 0, result.stderr
    text = path.read_text()
    # prometheus-client's OpenMetrics parser refuses a histogram with several timestamps (its
    # check resets per sample, not per point); promtool, the consumer, reads it (the README's
    # how-to test backfills this file). The histogram is checked line by line instead.
    histogram = re.compile(r"^http_request_duration_seconds_.*\n", re.MULTILINE)
    buckets = re.findall(
        r'^http_request_duration_seconds_bucket\{le="([^"]+)",namespace="shop",'
        r'service="(\w+)"\} (\d+)\.0 ',
        text,
        re.MULTILINE,
    )
    assert {service for _le, service, _n in buckets} == {"recommender", "checkout", "frontend"}
    assert "+Inf" in {le for le, _service, _n in buckets}
    families = {f.name: f for f in text_string_to_metric_families(histogram.sub("", text))}
    assert {
        "http_requests",
        "http_request_size_bytes",
        "container_cpu_usage_seconds",
        "kube_pod_container_resource_limits",
        "redis_memory_used_bytes",
    } <= set(families)
    codes = {s.labels["code"] for s in families["http_requests"].samples}
    assert codes == {"200", "500"}
    pods = {s.labels["pod"] for s in families["container_cpu_usage_seconds"].samples}
    assert all(p.startswith(("recommender-", "checkout-", "frontend-")) for p in pods)
    redis = families["redis_memory_used_bytes"].samples
    stamps = [s.timestamp for s in redis if s.labels["service"] == "recommender"]
    assert len(stamps) >= 38 and stamps == sorted(stamps)  # 10 min every 15 s, in order


def test_counters_never_go_down_and_the_p95_reads_back_within_a_bucket() -> None:
    sim = SimulatedCluster(SCENARIOS["input-size-surge"], SystemClock())
    collector = ShopCollector(sim, history_start(sim.clock.now(), 1800))
    replays = collector.replays(sim.clock.now())
    (recommender,) = [r for r in replays if r.service == "recommender"]
    counts = recommender.request_counts()
    assert all((counts[code][1:] >= counts[code][:-1]).all() for code in counts)
    buckets, count, _total = recommender.latency()
    step = buckets[-1] - buckets[-2]  # the last scrape interval's requests per bucket
    share = step / (count[-1] - count[-2])
    at95 = next(b for b, s in zip(BUCKETS, share, strict=True) if s >= 0.95)
    p95 = recommender.values["latency_p95_ms"][-1] / 1000
    assert p95 <= at95 < p95 * 1.5 + 1e-9
    latest = shop_families(replays, "shop", latest=True)
    assert all(s.timestamp is None for f in latest for s in f.samples)


def test_a_scrape_answers_in_prometheus_text_format(tmp_path: Path) -> None:
    port = free_port()
    medic = Path(sys.executable).parent / "medic"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    log = tmp_path / "export.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(medic), "sim", "export", "--port", str(port)], stdout=out, stderr=out, env=env
        )
    try:
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200,
            "medic sim export",
            server,
            log=log,
        )
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        stop(server)
    families = {f.name: f for f in prometheus_text(text)}
    assert {"http_requests", "http_request_duration_seconds", "redis_memory_used_bytes"} <= set(
        families
    )
    assert all(s.timestamp is None for f in families.values() for s in f.samples)  # the present
    assert "serving the simulated shop (input-size-surge, namespace shop)" in log.read_text()


def test_bad_options_are_one_line_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for args in (
            ["--port", str(port)],
            ["--openmetrics", "x.om", "--history", "5 years"],
            ["--openmetrics", "/nonexistent/dir/x.om", "--history", "10m"],
            [],
        ):
            result = CliRunner().invoke(app, ["sim", "export", *args])
            assert result.exit_code == 2 and result.stderr.count("\n") == 1, (args, result.stderr)
