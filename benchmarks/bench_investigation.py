"""Investigation speed: warm (model loaded: intake -> proposals) and cold (`medic demo` as a user
runs it, in a fresh process and data directory).

Prints per-stage medians and one JSON line; target: warm investigation under 2 s on 2 CPU cores.
Usage: python benchmarks/bench_investigation.py [--runs N] [--cold-runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster


def warm_runs(runs: int, data_dir: Path) -> dict[str, list[float]]:
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    settings = load_settings(data_dir=data_dir)
    scenario = SCENARIOS["input-size-surge"]
    stages: dict[str, list[float]] = {"intake": [], "investigate": [], "propose": [], "total": []}
    for _ in range(runs + 1):  # the first run opens the stores and seeds the memory: not counted
        clock = VirtualClock(time.time())
        sim = SimulatedCluster(scenario, clock)
        flow = build_sim_flow(settings, sim, clock, embedder)
        t0 = time.perf_counter()
        incident, _ = flow.intake(parse_alerts(scenario_alert(scenario, sim.anchor)))[0]
        t1 = time.perf_counter()
        investigation = flow.investigate(incident)
        t2 = time.perf_counter()
        flow.propose(incident, investigation)
        t3 = time.perf_counter()
        flow.incidents.resolve(incident.id, clock.now())  # next run opens a new incident
        for name, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            stages[name].append(value)
    return {name: values[1:] for name, values in stages.items()}


def cold_runs(runs: int) -> list[float]:
    medic = Path(sys.executable).with_name("medic")
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "MEDIC_DATA_DIR": str(Path(tmp) / "data")}
            t0 = time.perf_counter()
            subprocess.run(
                [str(medic), "demo", "--yes", "--json"], env=env, check=True, capture_output=True
            )
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warm = warm_runs(args.runs, Path(tmp) / "data")
    cold = cold_runs(args.cold_runs)
    p95 = (
        statistics.quantiles(warm["total"], n=20)[-1]
        if len(warm["total"]) > 1
        else warm["total"][0]
    )
    print(f"cpus: {os.cpu_count()}  warm runs: {args.runs}  cold runs: {args.cold_runs}")
    for name, values in warm.items():
        print(f"warm {name:12s} median {statistics.median(values) * 1000:8.1f} ms")
    print(f"warm total p95          {p95 * 1000:8.1f} ms   (target < 2000 ms)")
    cold_median = statistics.median(cold) if cold else None  # --cold-runs 0: warm runs only
    if cold_median is not None:
        print(f"cold demo    median {cold_median:8.2f} s  (import, model load, seed, run)")
        print(f"warm/cold ratio     {statistics.median(warm['total']) / cold_median:8.3f}")
    print(
        json.dumps(
            {
                "warm_investigation_median_s": round(statistics.median(warm["total"]), 3),
                "warm_investigation_p95_s": round(p95, 3),
                "stages_median_s": {k: round(statistics.median(v), 4) for k, v in warm.items()},
                "cold_demo_median_s": None if cold_median is None else round(cold_median, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
