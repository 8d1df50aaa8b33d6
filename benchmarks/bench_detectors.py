"""Detector speed: the streaming update of each univariate detector (with its calibrator), the
whole streaming ensemble, and the alert path (a typical alert: 20 series x 2 hours at 15 s).

Medians over repetitions, beside a trivial per-point Python update measured in the same run (the
floor of any per-point loop), because the machine is shared and absolute timings are noisy.
Targets: < 50 us per point per univariate detector; < 200 ms for the typical alert.
Usage: python benchmarks/bench_detectors.py [--points N] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time

import numpy as np

from detectors import DEFAULT_ENSEMBLE, DETECTORS, FindingRules, Series, StreamingEnsemble
from detectors.analysis import detect_anomalies
from detectors.calibration import TailCalibrator
from detectors.suite import DetectorSuite


def workload(points: int) -> tuple[list[float], list[float]]:
    """Five-minute samples: a daily cycle, noise, and a spike every few hundred points."""
    rng = np.random.default_rng(0)
    t = np.arange(points) * 300.0
    x = 100 + 30 * np.sin(2 * np.pi * t / 86400) + rng.normal(0, 3, points)
    x[rng.choice(points, points // 300, replace=False)] *= 3
    return t.tolist(), x.tolist()


def per_point(make_update, t: list[float], x: list[float], repeats: int) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeats):
        update = make_update()
        started = time.perf_counter()
        for ti, xi in zip(t, x, strict=True):
            update(ti, xi)
        runs.append((time.perf_counter() - started) / len(x))
    return statistics.median(runs) * 1e6


def trivial():  # type: ignore[no-untyped-def]
    state = [0.0]

    def update(t: float, x: float) -> float:
        state[0] += 0.1 * (x - state[0])
        return x - state[0]

    return update


def calibrated(name: str):  # type: ignore[no-untyped-def]
    def make():  # type: ignore[no-untyped-def]
        detector = DETECTORS[name]()
        calibrator = TailCalibrator(detector.sides, history=DEFAULT_ENSEMBLE.history)

        def update(t: float, x: float) -> float:
            s = detector.update(t, x)
            return calibrator.update(s) if math.isfinite(s) else 0.0

        return update

    return make


def ensemble():  # type: ignore[no-untyped-def]
    return StreamingEnsemble(DEFAULT_ENSEMBLE, learning_points=750).update


def typical_alert(seed: int = 1) -> tuple[list[Series], float]:
    """20 metrics of one service, 2 hours at 15 s; three of them shift 20 minutes before the end."""
    rng = np.random.default_rng(seed)
    t = np.arange(480) * 15.0
    series = []
    for i in range(20):
        values = rng.uniform(10, 1000) * (1 + 0.03 * rng.standard_normal(480))
        if i < 3:
            values[400:] *= 2.0
        series.append(Series.of(f"metric_{i}", t, values, {"region": "eu-west-1"}))
    return series, float(t[240])


def alert_ms(suite: DetectorSuite, repeats: int) -> float:
    series, split = typical_alert()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        suite.analyse(series, split)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    t, x = workload(args.points)
    floor = per_point(trivial, t, x, args.repeats)
    print(f"cpus {os.cpu_count()}, {args.points} points x {args.repeats} repeats (shared machine)")
    print(f"trivial per-point update      {floor:6.2f} us/point (floor of a Python loop)")
    streaming = {}
    for name in DETECTORS:
        streaming[name] = per_point(calibrated(name), t, x, args.repeats)
        print(
            f"{name:10s} + calibrator      {streaming[name]:6.2f} us/point "
            f"({streaming[name] / floor:5.1f}x the floor; target < 50)"
        )
    whole = per_point(ensemble, t, x, args.repeats)
    members = len(DEFAULT_ENSEMBLE.univariate)
    print(f"whole streaming ensemble      {whole:6.2f} us/point ({members} detectors)")
    full = alert_ms(DetectorSuite(), args.repeats * 3)
    single = alert_ms(DetectorSuite(ensemble=DEFAULT_ENSEMBLE.only("robust_z")), args.repeats * 3)
    series, split = typical_alert()
    found = detect_anomalies(series, split, DEFAULT_ENSEMBLE, FindingRules())
    print(
        f"typical alert (20 x 480)      {full:6.1f} ms median, ensemble; robust z alone "
        f"{single:5.1f} ms ({full / single:.1f}x); found {len(found)} of 3 shifted metrics "
        "(target < 200 ms)"
    )
    print(
        json.dumps(
            {
                "floor_us_per_point": round(floor, 2),
                "streaming_us_per_point": {k: round(v, 1) for k, v in streaming.items()},
                "ensemble_us_per_point": round(whole, 1),
                "alert_ms_median": round(full, 1),
                "alert_robust_z_only_ms_median": round(single, 1),
                "alert_findings": len(found),
            }
        )
    )


if __name__ == "__main__":
    main()
