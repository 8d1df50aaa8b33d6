"""Live root cause at scale (issue 14): a warm investigation of frontend's alert in a namespace of
50 services, beside the same incident in the 4-service shop and the same namespace with the
services around frontend not ranked (``max_candidates`` 1), interleaved in one run.

The incident is the cascading failure (payments' bad release fails checkout's charges, frontend
pages on errors); the namespace adds healthy neighbours built from the shop's profiles
(``tools.sim.namespace``), 11 to 16 metrics each (723 in all). Every candidate's metrics are
screened; frontend's logs are read, then the others' in screen order, as many as
``investigation.log_seconds`` lets start (the "logs of" column). The
baseline is set to 90 minutes, so with the suspect window from the alert (its lead, 30 minutes
here) every log read spans 2 hours; the script prints the span it measured.

Each run has its own anchor (a day apart: other noise, same incident) and is checked: the origin
named first must be payments. "cpu" is the process's CPU time during the investigation, "sources"
the part of it spent inside the simulated cluster producing metrics and log lines (the work of
Prometheus and the Kubernetes API, not Medic's), "own" the rest.
``--source-ms`` makes each read wait first, as a request to Prometheus or the Kubernetes API
would (the simulated sources answer at once). ``--log-seconds`` sets ``investigation.log_seconds``
(default: the configured 0.3 s): at 3 every candidate up to ``log_candidates`` has its logs read,
so most neighbours' error history comes from a few read windows - the case where ordinary error
noise once outranked the recurring origin. A run that names another service first prints it with
its evidence.
Usage: python benchmarks/bench_origins.py [--runs N] [--services N] [--baseline-minutes M]
       [--source-ms MS] [--log-seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.alerts import parse_alerts
from bot.config import Settings, load_settings
from bot.demo import scenario_alert
from bot.diagnosis.investigation import Investigation
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.sim import Scenario, SimLogLine, SimSeries, SimulatedCluster
from tools.sim.namespace import CASCADE, wide_cascade

START = 1_800_000_000.0
DAY = 86_400.0
T = TypeVar("T")


class TimedCluster(SimulatedCluster):
    """The simulated cluster, counting the CPU time spent producing metrics and logs (each
    reading thread's own, so that waiting for the interpreter lock is not counted); each read
    first waits ``latency`` seconds (off the GIL, like a request to a remote API)."""

    def __init__(self, scenario: Scenario, clock: VirtualClock, latency: float = 0.0) -> None:
        super().__init__(scenario, clock)
        self.latency = latency
        self.seconds = 0.0
        self.log_lines = 0
        self._lock = threading.Lock()

    def _timed(self, read: Callable[[], T]) -> T:
        t0 = time.thread_time()
        try:
            time.sleep(self.latency)
            return read()
        finally:
            with self._lock:
                self.seconds += time.thread_time() - t0

    def metrics(
        self, namespace: str, name: str, start: float, end: float, step: float = 15.0
    ) -> list[SimSeries]:
        read = super().metrics
        return self._timed(lambda: read(namespace, name, start, end, step))

    def logs(self, namespace: str, name: str, start: float, end: float) -> list[SimLogLine]:
        read = super().logs
        lines = self._timed(lambda: read(namespace, name, start, end))
        with self._lock:
            self.log_lines += len(lines)
        return lines


def one_run(
    scenario: Scenario, settings: Settings, embedder: MiniLMEmbedding, day: int, latency: float
) -> dict[str, Any]:
    clock = VirtualClock(START + day * DAY)
    sim = TimedCluster(scenario, clock, latency)
    flow = build_sim_flow(settings, sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(scenario, sim.anchor)))[0]
    t0, cpu0 = time.perf_counter(), time.process_time()
    investigation: Investigation = flow.investigate(incident)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    flow.incidents.resolve(incident.id, clock.now())  # the next run opens a new incident
    ranked = investigation.origins.ranked
    window = investigation.window
    if ranked and ranked[0].service != CASCADE.origin:
        place = next((k for k, o in enumerate(ranked) if o.service == CASCADE.origin), None)
        print(
            f"  day {day}: {ranked[0].service} first {ranked[0].cause.channels} "
            f"({CASCADE.origin} at {place}: "
            f"{ranked[place].cause.channels if place is not None else '-'})"
        )
    return {
        "seconds": seconds,
        "cpu": cpu,
        "sources": sim.seconds,
        "first": ranked[0].service if ranked else "",
        "ranked": len(ranked),
        "with_logs": len(investigation.origins.with_logs),
        "log_lines": sim.log_lines,
        "log_span_minutes": (window.end - window.baseline_start) / 60.0,
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--baseline-minutes", type=float, default=90.0)
    parser.add_argument(
        "--source-ms", type=float, default=0.0, help="wait before each metric or log read"
    )
    parser.add_argument(
        "--log-seconds", type=float, default=None, help="investigation.log_seconds (default 0.3)"
    )
    args = parser.parse_args()
    reading = {} if args.log_seconds is None else {"log_seconds": args.log_seconds}
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    wide = wide_cascade(args.services)
    setups = {  # name: (scenario, investigation settings besides the baseline)
        f"namespace of {args.services}": (wide, {}),
        f"shop of {len(CASCADE.services)}": (CASCADE, {}),
        "alerting one only": (wide, {"max_candidates": 1}),  # the ranker off: no fan-out
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in setups}
    with tempfile.TemporaryDirectory() as tmp:
        settings = {
            name: load_settings(
                data_dir=Path(tmp) / str(i),
                investigation={"baseline_minutes": args.baseline_minutes, **reading, **more},
            )
            for i, (name, (_, more)) in enumerate(setups.items())
        }
        for day in range(args.runs + 1):  # run 0 opens the stores and seeds the memory
            for name, (scenario, _) in setups.items():  # interleaved: all see the same load
                found = one_run(scenario, settings[name], embedder, day, args.source_ms / 1000)
                if day:
                    results[name].append(found)
    print(
        f"cpus: {os.cpu_count()}  load: {os.getloadavg()[0]:.2f}  warm runs: {args.runs}  "
        f"source latency: {args.source_ms:.0f} ms a read  "
        f"log_seconds: {settings[next(iter(setups))].investigation.log_seconds}"
    )
    summary = {}
    for name, runs in results.items():
        total = [r["seconds"] for r in runs]
        first = runs[0]
        cpu = [r["cpu"] for r in runs]
        sources = [r["sources"] for r in runs]
        own = [r["cpu"] - r["sources"] for r in runs]
        right = sum(r["first"] == CASCADE.origin for r in runs)
        checked = f"{right}/{len(runs)}" if first["ranked"] else "-"
        print(
            f"{name:18s} median {statistics.median(total) * 1000:6.0f} ms  "
            f"p95 {p95(total) * 1000:6.0f} ms  cpu {statistics.median(cpu) * 1000:6.0f} ms  "
            f"(sources {statistics.median(sources) * 1000:4.0f}, "
            f"own {statistics.median(own) * 1000:4.0f})  "
            f"origin first {checked}  ranked {first['ranked']}  "
            f"logs of {first['with_logs']} ({first['log_lines']} lines, "
            f"{first['log_span_minutes']:.0f} min)"
        )
        summary[name] = {
            "median_s": round(statistics.median(total), 3),
            "p95_s": round(p95(total), 3),
            "cpu_median_s": round(statistics.median(cpu), 3),
            "sources_cpu_median_s": round(statistics.median(sources), 3),
            "own_cpu_median_s": round(statistics.median(own), 3),
            "origin_top1": right / len(runs) if first["ranked"] else None,
            "ranked": first["ranked"],
            "with_logs": first["with_logs"],
            "log_lines": first["log_lines"],
            "log_span_minutes": round(first["log_span_minutes"], 1),
        }
    print("target: p95 <= 2000 ms for the namespace of 50 on 2 cores")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
