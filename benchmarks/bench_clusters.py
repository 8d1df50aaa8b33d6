"""What a second cluster costs: the clusters map builds a cluster's flow on its first alert, so a
process with N clusters pays for the ones that alert. Times, on two simulated clusters sharing one
warm embedding model and one data directory: the first flow (the default cluster's: the state
database, Chroma, the incident memory - what a single-cluster Medic pays too), the second
cluster's lazy build (its backends, sources, guard and workflow), and the routing of an alert
(choosing its cluster's flow) once built.

Prints seconds per step (median of --runs) and one JSON line.
Usage: python benchmarks/bench_clusters.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bot.config import load_settings
from bot.wiring import Wiring
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock


def one_run(data_dir: Path, embedder: MiniLMEmbedding) -> tuple[float, float, float]:
    settings = load_settings(
        data_dir=data_dir,
        clusters={"east": {"kind": "sim"}, "west": {"kind": "sim"}},
        default_cluster="east",
    )
    wiring = Wiring(settings, embedder=embedder)
    clock = VirtualClock(time.time())
    try:
        t0 = time.perf_counter()
        wiring.flow(clock)
        t1 = time.perf_counter()
        routes = wiring.cluster_flows(clock)
        routes.flow_for({"cluster": "west"})
        t2 = time.perf_counter()
        for _ in range(1000):
            routes.flow_for({"cluster": "west"})
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, (t3 - t2) / 1000
    finally:
        wiring.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        one_run(Path(tmp) / "warm", embedder)  # imports, the first seeding: not counted
        runs = [one_run(Path(tmp) / f"run{i}", embedder) for i in range(args.runs)]
    first, second, route = (statistics.median(r[i] for r in runs) for i in range(3))
    print(f"first (default) cluster's flow: {first:.3f} s")
    print(f"second cluster's lazy build:     {second:.3f} s")
    print(f"routing an alert once built:     {route * 1e6:.1f} us")
    summary = {
        "runs": args.runs,
        "first_flow_s": round(first, 3),
        "second_cluster_s": round(second, 3),
        "route_us": round(route * 1e6, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
