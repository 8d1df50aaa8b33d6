"""What the look at an ML service adds to an investigation (warm): the investigation of the demo's
incident on a simulated shop whose recommender names its model, with and without the look, and
the look alone as the feature count grows. The registry is the in-memory one and the live
histograms are in memory, so this is the look's own cost (resolving the version, comparing each
feature with the training data of the serving and earlier versions, the evidence); a real
registry's and Prometheus's round trips come on top (see "Registry look-ups").

    PYTHONPATH=. python benchmarks/bench_model_diagnosis.py --runs 20

Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bot.alerts import parse_alerts
from bot.config import ModelSettings, load_settings
from bot.demo import scenario_alert
from bot.diagnosis.model import ModelInvestigator
from bot.diagnosis.model_look import since_tag
from bot.wiring import build_sim_flow
from detectors.features import FeatureWindow, Histogram
from detectors.sources import TimeLeft
from knowledge.embeddings import MiniLMEmbedding
from tools.backends import Rollout
from tools.clock import VirtualClock
from tools.registry.base import (
    ALIAS_LABEL,
    MODEL_LABEL,
    FeatureHistogram,
    ModelVersion,
    TrainingProfile,
)
from tools.registry.memory import MemoryRegistry
from tools.sim import SCENARIOS, SimulatedCluster

MODEL = "recommender-ranker"
START = 1_800_000_000.0
EDGES = tuple(float(e) for e in np.linspace(0.0, 100.0, 21))
LIVE_EDGES = (-np.inf, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, np.inf)


class TaggedRegistry(MemoryRegistry):
    """The in-memory registry with the alias's ``since`` tag, as the MLflow adapter writes it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, dict[str, str]] = {}

    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        return [
            dataclasses.replace(v, tags=self.tags.get(v.version, {}))
            for v in super().versions(model, limit)
        ]

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        found = super().alias(model, alias)
        return dataclasses.replace(found, tags=self.tags.get(found.version, {})) if found else None


class Live:
    def __init__(self, window: FeatureWindow) -> None:
        self.window = window

    def feature_histograms(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> FeatureWindow:
        return self.window


def registry(features: int) -> TaggedRegistry:
    rng = np.random.default_rng(3)
    found = TaggedRegistry()
    for i in range(3):
        found.register(
            MODEL,
            metrics={"ndcg_at_10": 0.4, "auc": 0.8},
            profile=TrainingProfile(
                tuple(
                    FeatureHistogram(f"f{j}", EDGES, tuple(rng.uniform(50, 500, 20).tolist()))
                    for j in range(features)
                ),
                FeatureHistogram("predictions", EDGES, tuple([100.0] * 20)),
            ),
            created_at=datetime.fromtimestamp(START - 86400.0 * (3 - i), UTC),
        )
        found.set_alias(MODEL, "champion", str(i + 1))
        found.tags[str(i + 1)] = {since_tag("champion"): str(START - 86400.0 * (3 - i))}
    return found


def live(features: int) -> Live:
    rng = np.random.default_rng(4)
    count = len(LIVE_EDGES) - 1
    return Live(
        FeatureWindow(
            {
                f"f{j}": Histogram(LIVE_EDGES, tuple(rng.uniform(50, 500, count).tolist()))
                for j in range(features)
            },
            Histogram(LIVE_EDGES, tuple([100.0] * count)),
        )
    )


def look_alone(features: int, runs: int) -> float:
    """Median milliseconds of one look with ``features`` features and three versions."""
    investigator = ModelInvestigator(registry(features), live(features), ModelSettings())
    rollouts = [Rollout(7, "2026-01-01T00:00:00+00:00", ("r:1",), 3, labels={
        MODEL_LABEL: MODEL, ALIAS_LABEL: "champion"})]  # fmt: skip
    window = (START - 3600.0, START - 900.0, START)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        investigator.look("shop", "recommender", rollouts, window, [], [], lambda: 10.0)
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times)


def ml_shop(clock: VirtualClock) -> SimulatedCluster:
    scenario = SCENARIOS["input-size-surge"]
    services = tuple(
        dataclasses.replace(
            s, template_labels={**s.template_labels, MODEL_LABEL: MODEL, ALIAS_LABEL: "champion"}
        )
        if s.name == "recommender"
        else s
        for s in scenario.services
    )
    return SimulatedCluster(dataclasses.replace(scenario, services=services), clock)


def investigations(runs: int, features: int, data_dir: Path) -> dict[str, float]:
    """Median milliseconds of the demo's investigation (warm), without and with the look, the
    two interleaved so that a machine busy with something else weighs on both alike."""
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    times: dict[str, list[float]] = {"without": [], "with": []}
    for i in range(runs + 1):  # the first round warms the caches and is not counted
        for label, taken in times.items():
            clock = VirtualClock(START)
            sim = ml_shop(clock)
            flow = build_sim_flow(
                load_settings(data_dir=data_dir / f"{label}-{i}"), sim, clock, embedder
            )
            flow.models = (
                ModelInvestigator(registry(features), live(features), ModelSettings())
                if label == "with"
                else None
            )
            incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
            began = time.perf_counter()
            flow.investigate(incident)
            if i:
                taken.append(1000 * (time.perf_counter() - began))
    return {label: statistics.median(ms) for label, ms in times.items()}


def scenarios() -> list[dict[str, object]]:
    """The MLOps scenarios (``tools.sim.model_suite``, with the shop's model in an embedded
    MLflow) through the sim flow: each one's top hypotheses and what the look blamed."""
    from bot.cli.session import _model
    from bot.wiring import Wiring

    try:  # imported by name: the module comes with the registry part's branch
        suite = importlib.import_module("tools.sim.model_suite")
    except ImportError:
        print("no tools.sim.model_suite on this branch: the registry part brings it")
        return []
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    found = []
    for scenario in suite.MODEL_SCENARIOS:
        with tempfile.TemporaryDirectory() as tmp:
            clock = VirtualClock(START)
            sim = SimulatedCluster(scenario, clock)
            flow = Wiring(load_settings(data_dir=Path(tmp)), embedder=embedder).sim_flow(sim, clock)
            incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
            inv = flow.investigate(incident)
            look = _model(inv.model) or {}
            found.append(
                {
                    "scenario": scenario.name,
                    "hypotheses": [(h.cause, h.score) for h in inv.hypotheses[:3]],
                    "blamed": look.get("blamed"),
                    "drifted": [d["feature"] for d in look.get("drift", []) if d["drifted"]],
                }
            )
            print(json.dumps(found[-1]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--scenarios", action="store_true", help="play the MLOps scenarios instead")
    args = parser.parse_args()
    if args.scenarios:
        print(json.dumps({"scenarios": scenarios()}))
        return
    alone = {n: round(look_alone(n, max(args.runs, 5)), 2) for n in (5, 20, 50, 200)}
    for n, ms in alone.items():
        print(f"look alone, {n} features x 3 versions: {ms} ms (median)")
    with tempfile.TemporaryDirectory() as tmp:
        flow = investigations(args.runs, args.features, Path(tmp))
    added = flow["with"] - flow["without"]
    print(
        f"investigation of the demo incident, warm, median of {args.runs}: "
        f"{flow['without']:.0f} ms without the look, {flow['with']:.0f} ms with it "
        f"({args.features} features): +{added:.1f} ms"
    )
    print(
        json.dumps(
            {
                "look_ms_by_features": alone,
                "investigation_ms": {k: round(v, 1) for k, v in flow.items()},
                "added_ms": round(added, 1),
                "features": args.features,
                "runs": args.runs,
            }
        )
    )


if __name__ == "__main__":
    main()
