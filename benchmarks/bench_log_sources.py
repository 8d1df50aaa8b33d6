"""Log sources and Events: lines per second read through Loki's paging and Elasticsearch's
search_after from the loopback stores of the contract tests (tests/services/log_stores.py: real
HTTP and JSON, the store's own work is a list filter), beside the simulated cluster's in-memory
source; and what reading Kubernetes Events adds to an investigation - the Kubernetes adapter
listing a namespace of 2,000 Events from kmock's emulated API server, and the memory-leak
investigation with and without the simulated shop's Events.

Prints one line per measurement and one JSON line.
Usage: python benchmarks/bench_log_sources.py [--lines N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client as k8s

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.wiring import build_sim_flow
from bot.wiring.sources import log_source
from knowledge.embeddings import MiniLMEmbedding
from knowledge.logs import InMemoryLogSource, LogLine
from tests.services.kube import running_kube_api
from tests.services.log_stores import FakeElasticsearch, FakeLoki, LokiEntry, serving
from tools.backends import ClusterEvent
from tools.clock import VirtualClock
from tools.kube import KubernetesCluster
from tools.sim import SCENARIOS, SimulatedCluster

T0 = 1_800_000_000
NS = 1_000_000_000
OWN = InMemoryLogSource(lambda *_: [])


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    """The median seconds of ``runs`` calls, and the last result."""
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


class Handled:
    """Seconds spent inside a loopback store's handler (its own filtering and sorting), so that
    Medic's side - the read, JSON and each line's parsing - can be told apart."""

    seconds = 0.0

    @classmethod
    def wrap(cls, fake: Any) -> None:
        answer = fake.answer

        def timed_answer(handler: Any) -> Any:
            started = time.perf_counter()
            try:
                return answer(handler)
            finally:
                cls.seconds += time.perf_counter() - started

        fake.answer = timed_answer


def log_stores(count: int, runs: int) -> dict[str, float]:
    labels = {"namespace": "shop", "app": "checkout", "pod": "checkout-7f9c-abcde"}
    step = 3600 / count
    loki = FakeLoki(
        entries=[
            LokiEntry(int((T0 + k * step) * NS), labels, f"INFO served request {k} in 12 ms")
            for k in range(count)
        ]
    )
    docs = [
        {
            "@timestamp": datetime.fromtimestamp(T0 + k * step, UTC).isoformat(),
            "message": f"served request {k} in 12 ms",
            "log.level": "info",
            "kubernetes": {"namespace": "shop", "labels": {"app": "checkout"}},
            "seq": k,
        }
        for k in range(count)
    ]
    elastic = FakeElasticsearch(docs=docs)
    Handled.wrap(loki)
    Handled.wrap(elastic)
    lines = [LogLine(T0 + k * step, f"served request {k} in 12 ms", "INFO") for k in range(count)]
    memory = InMemoryLogSource(lambda *_: lines)
    out: dict[str, float] = {}
    with serving(loki) as loki_url, serving(elastic) as es_url:
        for name, settings in (
            ("loki", {"source": "loki", "url": loki_url, "page_lines": 5000}),
            (
                "elasticsearch",
                {
                    "source": "elasticsearch",
                    "url": es_url,
                    "page_lines": 5000,
                    "fields": {"tiebreaker": "seq"},
                },
            ),
        ):
            source = log_source(load_settings(logs=settings).logs, count, OWN)
            Handled.seconds = 0.0
            seconds, got = timed(lambda s=source: s.fetch("shop", "checkout", T0, T0 + 3600), runs)
            own = seconds - Handled.seconds / runs
            out[f"{name}_lines_per_s"] = round(len(got) / seconds)
            out[f"{name}_medic_side_lines_per_s"] = round(len(got) / own)
            print(f"{name:14s} Medic's side (the store's own time taken out): "
                  f"{own * 1000:.0f} ms, {len(got) / own:,.0f} lines/s")  # fmt: skip
            out[f"{name}_requests"] = source.requests  # type: ignore[attr-defined]
            print(
                f"{name:14s} {len(got):>7,} lines in {seconds * 1000:8.1f} ms "
                f"({len(got) / seconds:>10,.0f} lines/s, {source.requests} requests)"  # type: ignore[attr-defined]
            )
    seconds, got = timed(lambda: memory.fetch("shop", "checkout", T0, T0 + 3600), runs)
    out["in_memory_lines_per_s"] = round(len(got) / seconds)
    print(f"{'in memory':14s} {len(got):>7,} lines in {seconds * 1000:8.1f} ms "
          f"({len(got) / seconds:>10,.0f} lines/s)")  # fmt: skip
    return out


def kube_events(runs: int) -> dict[str, float]:
    """The adapter listing a namespace of 2,000 Events (4 pages) and keeping checkout's."""
    with running_kube_api() as api:
        for k in range(2000):
            name = "checkout-6f7c9d8b5-x2k4z" if k % 10 == 0 else f"other-{k % 7}-0"
            at = datetime.fromtimestamp(T0 - k, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            api.put(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"e{k}", "namespace": "shop"},
                    "involvedObject": {"kind": "Pod", "name": name, "namespace": "shop"},
                    "reason": "BackOff",
                    "message": "Back-off restarting failed container",
                    "type": "Warning",
                    "lastTimestamp": at,
                }
            )
        cluster = KubernetesCluster(k8s.ApiClient(k8s.Configuration(host=api.url)))
        seconds, got = timed(lambda: cluster.recent_events("shop", "checkout", T0 - 7200), runs)
    print(f"kube events    2,000 in the namespace, {len(got)} kept in {seconds * 1000:.1f} ms")
    return {"kube_events_ms": round(seconds * 1000, 1), "kube_events_kept": len(got)}


class NoEvents(SimulatedCluster):
    def recent_events(
        self, namespace: str, name: str, since: float, limit: int = 50
    ) -> list[ClusterEvent]:
        return []


def investigation_with_events(runs: int) -> dict[str, float]:
    """The warm memory-leak investigation, with the shop's Events and without (alternating, so
    both see the same machine)."""
    embedder = MiniLMEmbedding()
    seconds: dict[str, list[float]] = {"with_events": [], "without_events": []}
    for _ in range(runs):
        for label, kind in (("with_events", SimulatedCluster), ("without_events", NoEvents)):
            with tempfile.TemporaryDirectory() as tmp:
                clock = VirtualClock(float(T0))
                sim = kind(SCENARIOS["memory-leak"], clock)
                flow = build_sim_flow(load_settings(data_dir=Path(tmp)), sim, clock, embedder)
                alert = parse_alerts(scenario_alert(sim.scenario, sim.anchor))
                incident = flow.intake(alert)[0][0]
                flow.investigate(incident)  # warm: templates, memory
                started = time.perf_counter()
                flow.investigate(incident)
                seconds[label].append(time.perf_counter() - started)
    out = {}
    for label, times in seconds.items():
        out[f"investigation_{label}_ms"] = round(statistics.median(times) * 1000, 1)
        print(f"investigation  memory-leak {label:15s} {statistics.median(times) * 1000:.0f} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = log_stores(args.lines, args.runs)
    result |= kube_events(args.runs)
    result |= investigation_with_events(args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
