"""Registry look-ups: what the model-aware investigation asks MLflow - the versions, the alias,
the training profiles of the serving and the previous version - timed warm against the embedded
store and a local ``mlflow server``, beside the warm investigation they are added to.

Prints ms p50/p95 per store and one JSON line; target: the look-ups add <= 100 ms.
Usage: python benchmarks/bench_registry.py [--runs N] [--no-server]
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
from tools.registry import MlflowRegistry, ModelRegistry
from tools.sim import SimulatedCluster
from tools.sim.model_suite import MODEL_DRIFT
from tools.sim.training import shop_registry

MODEL = "recommender-ranker"


def lookups(registry: ModelRegistry) -> None:
    """The investigation's questions: serving version (alias), recent versions, two profiles."""
    serving = registry.alias(MODEL, "champion")
    assert serving is not None
    versions = registry.versions(MODEL, limit=5)
    previous = next(v for v in versions if int(v.version) < int(serving.version))
    assert registry.training_profile(MODEL, serving.version) is not None
    assert registry.training_profile(MODEL, previous.version) is not None


def timed_lookups(store: MlflowRegistry, runs: int) -> tuple[list[float], list[float]]:
    """(seconds to start the shop on ``store`` - seed check and alias writes -, seconds of the
    look-ups), per run; the first run (migrations, seeding, imports) is not counted."""
    starts, reads = [], []
    for _ in range(runs + 1):
        sim = SimulatedCluster(MODEL_DRIFT, VirtualClock(time.time()))
        registry = shop_registry(store, sim)
        t0 = time.perf_counter()
        registry.training.ready()
        t1 = time.perf_counter()
        lookups(registry)
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        reads.append(t2 - t1)
    return starts[1:], reads[1:]


def investigations(runs: int, data_dir: Path) -> list[float]:
    """Seconds of the warm investigation of the same scenario (intake to hypotheses)."""
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    settings = load_settings(data_dir=data_dir)
    times = []
    for _ in range(runs + 1):
        clock = VirtualClock(time.time())
        sim = SimulatedCluster(MODEL_DRIFT, clock)
        flow = build_sim_flow(settings, sim, clock, embedder)
        incident, _ = flow.intake(parse_alerts(scenario_alert(MODEL_DRIFT, sim.anchor)))[0]
        t0 = time.perf_counter()
        flow.investigate(incident)
        times.append(time.perf_counter() - t0)
        flow.incidents.resolve(incident.id, clock.now())
    return times[1:]


def quantiles(values: list[float]) -> tuple[float, float]:
    p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
    return statistics.median(values) * 1000, p95 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-server", action="store_true", help="embedded store only")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        embedded = MlflowRegistry.embedded(root / "data")
        embedded.client().search_registered_models(max_results=1)  # import + migrations
        first_use = time.perf_counter() - t0
        t0 = time.perf_counter()
        MlflowRegistry.embedded(root / "data").client().search_registered_models(max_results=1)
        reopen = time.perf_counter() - t0
        starts, reads = timed_lookups(embedded, args.runs)
        results["embedded"] = _row(starts, reads)
        if not args.no_server:
            from tests.services.mlflow_server import running_mlflow

            with running_mlflow(root / "server") as url:
                starts, reads = timed_lookups(MlflowRegistry(url), args.runs)
                results["server"] = _row(starts, reads)
        baseline = investigations(max(3, args.runs // 4), root / "data")
    base50, base95 = quantiles(baseline)
    print(f"cpus: {os.cpu_count()}  runs: {args.runs}")
    print(f"embedded store, first use (import + migrations) {first_use * 1000:8.0f} ms")
    print(f"embedded store, opened again (migrated)          {reopen * 1000:8.0f} ms")
    print(f"warm investigation (baseline)   p50 {base50:8.1f} ms  p95 {base95:8.1f} ms")
    for store, row in results.items():
        print(
            f"{store:8s} look-ups  p50 {row['lookups_p50_ms']:6.1f} ms  p95 "
            f"{row['lookups_p95_ms']:6.1f} ms  (+{row['lookups_p50_ms'] / base50 * 100:4.1f}% "
            f"of the investigation; target <= 100 ms)   shop start p50 "
            f"{row['shop_start_p50_ms']:6.1f} ms"
        )
    print(
        json.dumps(
            {
                "investigation_p50_ms": round(base50, 1),
                "investigation_p95_ms": round(base95, 1),
                "embedded_first_use_ms": round(first_use * 1000),
                "embedded_reopen_ms": round(reopen * 1000),
                **{store: row for store, row in results.items()},
            }
        )
    )


def _row(starts: list[float], reads: list[float]) -> dict[str, float]:
    p50, p95 = quantiles(reads)
    s50, s95 = quantiles(starts)
    return {
        "lookups_p50_ms": round(p50, 1),
        "lookups_p95_ms": round(p95, 1),
        "shop_start_p50_ms": round(s50, 1),
        "shop_start_p95_ms": round(s95, 1),
    }


if __name__ == "__main__":
    main()
