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

import httpx
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
            # The store's time is taken out below, which holds only for slices read one after
            # another (at once, the handlers overlap): slices_at_once compares the two.
            source._pool = None  # type: ignore[attr-defined]
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


def slices_at_once(count: int, runs: int, latencies: list[float]) -> dict[str, float]:
    """One hour of ``count`` lines read in 8 slices (page_lines 5,000) one after another
    (``concurrent_reads`` 1, as before) and at once (8, the default), same store, same run,
    alternating; the store answers each request ``latency`` seconds late, as a store a
    network away does (0: the loopback store alone, which shares this process' CPU)."""
    from knowledge.elastic_logs import ElasticFields, ElasticsearchLogSource
    from knowledge.logs import REMOTE_READS
    from knowledge.loki_logs import LokiLogSource

    labels = {"namespace": "shop", "app": "checkout", "pod": "checkout-7f9c-abcde"}
    step = 3600 / count
    loki = FakeLoki(
        entries=[
            LokiEntry(int((T0 + k * step) * NS), labels, f"INFO served request {k} in 12 ms")
            for k in range(count)
        ]
    )
    elastic = FakeElasticsearch(
        docs=[
            {
                "@timestamp": datetime.fromtimestamp(T0 + k * step, UTC).isoformat(),
                "message": f"served request {k} in 12 ms",
                "kubernetes": {"namespace": "shop", "labels": {"app": "checkout"}},
                "seq": k,
            }
            for k in range(count)
        ]
    )
    delay = [0.0]
    for fake in (loki, elastic):
        answer = fake.answer

        def late(handler: Any, answer: Any = answer) -> Any:
            time.sleep(delay[0])
            return answer(handler)

        fake.answer = late  # type: ignore[method-assign]
    out: dict[str, float] = {}
    with serving(loki) as loki_url, serving(elastic) as es_url:
        for latency in latencies:
            delay[0] = latency
            for name, url in (("loki", loki_url), ("elasticsearch", es_url)):
                made = {}
                for reads in (1, REMOTE_READS):
                    client = httpx.Client(base_url=url, timeout=60)
                    made[reads] = (
                        LokiLogSource(client, max_lines=count, page_lines=5000,
                                      concurrent_reads=reads)
                        if name == "loki"
                        else ElasticsearchLogSource(
                            client, "logs-*", fields=ElasticFields(tiebreaker="seq"),
                            max_lines=count, page_lines=5000, concurrent_reads=reads)
                    )  # fmt: skip
                seconds: dict[int, list[float]] = {1: [], REMOTE_READS: []}
                for _ in range(runs):
                    for reads, source in made.items():
                        started = time.perf_counter()
                        got = source.fetch("shop", "checkout", T0, T0 + 3600)
                        seconds[reads].append(time.perf_counter() - started)
                        assert len(got) == count, (name, reads, len(got))
                series = statistics.median(seconds[1])
                at_once = statistics.median(seconds[REMOTE_READS])
                key = f"{name}_{latency * 1000:.0f}ms"
                out[f"{key}_series_ms"] = round(series * 1000)
                out[f"{key}_at_once_ms"] = round(at_once * 1000)
                print(f"{name:14s} store latency {latency * 1000:3.0f} ms: 8 slices in series "
                      f"{series * 1000:7.0f} ms, at once {at_once * 1000:7.0f} ms "
                      f"({series / at_once:.1f}x, {made[1].requests} requests)")  # fmt: skip
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
    parser.add_argument("--slices-only", action="store_true",
                        help="only the slices in series / at once comparison")  # fmt: skip
    parser.add_argument("--latency-ms", type=float, nargs="*", default=[0.0, 50.0])
    args = parser.parse_args()
    result = slices_at_once(args.lines, args.runs, [ms / 1000 for ms in args.latency_ms])
    if args.slices_only:
        print(json.dumps(result))
        return
    result |= log_stores(args.lines, args.runs)
    result |= kube_events(args.runs)
    result |= investigation_with_events(args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
