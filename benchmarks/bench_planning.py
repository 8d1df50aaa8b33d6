"""Planning speed: what planning adds to an investigation with the LLM off.

For every scenario of the suite: the investigation itself (detectors, templates, memory search,
diagnosis), then what planning adds - reading recent rollouts and corrections (enrich, now
flow.with_context) and the planners with merging and ranking (plan) - and, for reference,
putting the plan through the guard (propose: guard, dry run, proposal rows, audit entries). Prints
medians and one JSON line; target:
enrich + plan under 100 ms. Timings on a shared machine are noisy: compare ratios and medians.
Usage: python benchmarks/bench_planning.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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

STAGES = ("investigate", "enrich", "plan", "propose")


def run(runs: int, data_dir: Path) -> dict[str, list[float]]:
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    settings = load_settings(data_dir=data_dir)
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for repetition in range(runs + 1):  # the first round opens the stores: not counted
        for scenario in SCENARIOS.values():
            clock = VirtualClock(time.time())
            sim = SimulatedCluster(scenario, clock)
            flow = build_sim_flow(settings, sim, clock, embedder)
            incident, _ = flow.intake(parse_alerts(scenario_alert(scenario, sim.anchor)))[0]
            t0 = time.perf_counter()
            investigation = flow.investigator.investigate(incident)
            t1 = time.perf_counter()
            investigation = flow.with_context(incident, investigation)
            t2 = time.perf_counter()
            plan = flow.plan(incident, investigation)
            t3 = time.perf_counter()
            flow.propose(incident, investigation, plan)
            t4 = time.perf_counter()
            flow.incidents.resolve(incident.id, clock.now())
            if repetition:
                for stage, value in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    timings[stage].append(value)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="rounds over the whole suite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timings = run(args.runs, Path(tmp) / "data")
    medians = {stage: statistics.median(values) * 1000 for stage, values in timings.items()}
    added = [e + p for e, p in zip(timings["enrich"], timings["plan"], strict=True)]
    added_median = statistics.median(added) * 1000
    added_max = max(added) * 1000
    rounds = f"{len(SCENARIOS)} scenarios x {args.runs}"
    print(f"cpus: {os.cpu_count()}  samples: {len(added)} ({rounds})")
    for stage, value in medians.items():
        print(f"{stage:12s} median {value:8.2f} ms")
    print(f"planning adds (enrich + plan): median {added_median:.2f} ms, max {added_max:.2f} ms")
    ratio = added_median / medians["investigate"]
    print(f"planning / investigation: {ratio:.3f}  (target: planning < 100 ms)")
    print(
        json.dumps(
            {
                "samples": len(added),
                "investigate_median_ms": round(medians["investigate"], 2),
                "planning_added_median_ms": round(added_median, 2),
                "planning_added_max_ms": round(added_max, 2),
                "propose_median_ms": round(medians["propose"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
