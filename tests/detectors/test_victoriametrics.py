"""The Prometheus metric source, unchanged, against a real VictoriaMetrics (Debian's package):
the shipped default PromQL over backfilled counters and histograms reads the rates, ratios and
quantiles they hold; the services of a namespace are listed; and the demo's incident, its
metrics served by VictoriaMetrics, gets the same diagnosis as from the cluster."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.wiring import build_sim_flow
from bot.wiring.sources import prometheus_server
from knowledge.embeddings import MiniLMEmbedding
from tests.services.victoriametrics import exposition, running_victoriametrics
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

pytestmark = pytest.mark.slow
SERVICE = (("namespace", "shop"), ("service", "checkout"))
STEP = 15.0


def counters(now: float) -> str:
    """Two hours of checkout's counters, every 15 s: 10 requests/s answered 200 and 0.5/s
    answered 500; request durations with 90% under 0.1 s and the rest between 0.25 s and 0.5 s;
    request sizes of 2,000 bytes."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = {}
    times = [now - 7200 + k * STEP for k in range(int(7200 / STEP))]
    elapsed = [t - times[0] for t in times]

    def counter(name: str, labels: tuple[tuple[str, str], ...], per_second: float) -> None:
        samples[(name, SERVICE + labels)] = [
            (t, per_second * e) for t, e in zip(times, elapsed, strict=True)
        ]

    counter("http_requests_total", (("code", "200"),), 10.0)
    counter("http_requests_total", (("code", "500"),), 0.5)
    buckets = {"0.1": 0.9 * 10.5, "0.25": 0.9 * 10.5, "0.5": 10.5, "+Inf": 10.5}
    for le, rate in buckets.items():
        counter("http_request_duration_seconds_bucket", (("le", le),), rate)
    counter("http_request_size_bytes_sum", (), 2000.0 * 10.5)
    counter("http_request_size_bytes_count", (), 10.5)
    samples[("shop_hits_total", (("ns", "shop"), ("app", "checkout")))] = [
        (t, 7.0 * e) for t, e in zip(times, elapsed, strict=True)
    ]
    frontend = (("namespace", "shop"), ("service", "frontend"), ("code", "200"))
    samples[("http_requests_total", frontend)] = [
        (t, 5.0 * e) for t, e in zip(times, elapsed, strict=True)
    ]
    return exposition(samples)


def test_the_default_promql_reads_rates_ratios_and_quantiles_from_victoriametrics(
    tmp_path: Path,
) -> None:
    now = time.time()
    with running_victoriametrics(tmp_path / "vm", counters(now)) as url:
        settings = load_settings(metrics={"source": "prometheus", "prometheus_url": url})
        source = prometheus_server(settings, VirtualClock(now))
        series = {s.metric: s for s in source.fetch("shop", "checkout", now - 3600, now - 60)}
        services = source.workloads("shop", 10)
        # a differently named metric replaces one default; null drops another; the rest stay
        renamed = 'sum(rate(shop_hits_total{ns="{namespace}", app="{service}"}[5m]))'
        settings = load_settings(
            metrics={
                "prometheus_url": url,
                "queries": {"request_rate": renamed, "cache_memory_bytes": None},
            }
        )
        source = prometheus_server(settings, VirtualClock(now))
        merged = {s.metric: s for s in source.fetch("shop", "checkout", now - 3600, now - 60)}
    assert {"request_rate", "error_ratio", "latency_p95_ms", "request_payload_bytes"} <= set(series)
    assert series["request_rate"].values.mean() == pytest.approx(10.5, rel=0.02)
    assert series["error_ratio"].values.mean() == pytest.approx(0.5 / 10.5, rel=0.02)
    assert series["request_payload_bytes"].values.mean() == pytest.approx(2000, rel=0.02)
    # the 95th percentile falls in the (0.25, 0.5] bucket: linear interpolation gives 375 ms
    assert series["latency_p95_ms"].values.mean() == pytest.approx(375, rel=0.05)
    assert len(series["request_rate"]) > 50
    assert services == ["checkout", "frontend"]
    assert merged["request_rate"].values.mean() == pytest.approx(7.0, rel=0.02)
    assert merged["error_ratio"].values.mean() == pytest.approx(0.5 / 10.5, rel=0.02)


def test_the_demo_incident_with_metrics_from_victoriametrics_gets_the_same_diagnosis(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    clock = VirtualClock(time.time())
    sim = SimulatedCluster(SCENARIOS["input-size-surge"], clock)
    labels = (("namespace", "shop"), ("service", "recommender"))
    series = sim.metrics("shop", "recommender", clock.now() - 7200, clock.now())
    samples = {
        (f"sim_{s.metric}", labels + tuple(sorted(s.labels.items()))): list(
            zip(s.timestamps.tolist(), s.values.tolist(), strict=True)
        )
        for s in series
    }
    queries = {
        s.metric: f'sim_{s.metric}{{namespace="{{namespace}}", service="{{service}}"}}'
        for s in series
    }
    with running_victoriametrics(tmp_path / "vm", exposition(samples)) as url:
        settings = load_settings(
            data_dir=tmp_path / "data",
            metrics={"source": "prometheus", "prometheus_url": url, "queries": queries},
        )
        flow = build_sim_flow(settings, sim, clock, embedder)
        incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
        investigation = flow.investigate(incident)
    assert investigation.notes == []
    assert {"latency_p95_ms", "request_payload_bytes"} <= {f.metric for f in investigation.findings}
    assert investigation.hypotheses[0].cause == "input-size-surge"
