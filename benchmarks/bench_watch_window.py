"""How the watch's short trend window (``watch.quick_trend_minutes``, ``quick_confidence``) was
chosen: each candidate's forecast alone over the simulated shop's share metrics (memory working
set, disk, pool - each heading for 1.0), pass by pass, on the TUNING set of
``benchmarks/bench_watch.py`` only: how many minutes after a leak (0.3/h) and a filling disk
(0.5/h) start it first fires, and how many service-passes of a normal day (week seed 1) it fires
on. Rule: the earliest mean first heads-up among the candidates with 0 firings on the normal
day that have a less strict neighbour (the same window at the next lower confidence) with 0
firings too - a margin.

``--chosen --seeds 2 3 4 5 6 7 --days 7 --step 300`` counts the chosen window's firings on the
other sets' normal weeks at `medic serve`'s interval (a check, nothing chosen there).

    python benchmarks/bench_watch_window.py                  # the tuning set (minutes)
    python benchmarks/bench_watch_window.py --chosen --seeds 2 3 --days 7 --step 300
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.wiring.sources import sim_metric_source
from detectors import ForecastRules, Series, time_to_threshold
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster
from tools.sim.week import normal_week

START = 1_800_028_800.0  # as bench_watch.py
ONSET = 2 * 3600.0
MINUTE = 60.0
HORIZON = 4 * 3600.0  # watch.horizon_minutes
LOOKBACK = 2 * 3600.0  # watch.lookback_minutes
SHARES = ("memory_working_set_ratio", "disk_usage_ratio", "db_pool_in_use_ratio")
SERVICES = ("checkout", "frontend", "recommender")
FAULTS = (("memory-leak", "checkout", 0.3), ("disk-filling", "frontend", 0.5))  # TUNING


@dataclass(frozen=True)
class Window:
    seconds: float
    confidence: float
    bound: float  # the slower bound must reach the limit within this share of the horizon

    @property
    def name(self) -> str:
        return f"{self.seconds / 60:g} min / {self.confidence:g} / {self.bound:g} x horizon"

    def fires(self, series: Series) -> bool:
        rules = ForecastRules(horizon=HORIZON, lookback=self.seconds, confidence=self.confidence)
        forecast = time_to_threshold(series, 1.0, rules)
        return (
            forecast is not None
            and forecast.eta <= HORIZON
            and forecast.latest <= self.bound * HORIZON
        )


CANDIDATES = [
    Window(s, c, b)
    for s, c, b in itertools.product((150.0, 180.0, 240.0, 300.0), (0.9, 0.99, 0.999), (1.0, 0.5))
]
CHOSEN = Window(300.0, 0.99, 1.0)


def shares(sim: SimulatedCluster, service: str, start: float, end: float) -> list[Series]:
    source = sim_metric_source(sim, 1_000_000)
    return [s for s in source.fetch("shop", service, start, end) if s.metric in SHARES]


def first_fire(windows: Sequence[Window], name: str, service: str, rate: float) -> list[float]:
    """Minutes after the fault's start of each window's first firing (a pass every minute
    from 30 minutes before it; nan: not within 40 minutes)."""
    base = SCENARIOS[name]
    fault = replace(base.faults[0], offset=ONSET, size=rate)
    clock = VirtualClock(START)
    sim = SimulatedCluster(replace(base, faults=(fault,)), clock)
    clock.sleep(ONSET + 40 * MINUTE)
    series = shares(sim, service, START, clock.now())
    passes = np.arange(START + ONSET - 30 * MINUTE, START + ONSET + 40 * MINUTE, MINUTE)
    found = []
    for window in windows:
        hits = (
            t
            for t in passes
            if any(window.fires(s.between(t - LOOKBACK, t + 1e-6)) for s in series)
        )
        first = next(hits, None)
        found.append(float("nan") if first is None else (first - START - ONSET) / MINUTE)
    return found


def normal_firings(
    windows: Sequence[Window], seed: int, days: float, step: float
) -> tuple[int, list[int]]:
    """Service-passes of a normal week, and on how many each window fired."""
    clock = VirtualClock(START)
    sim = SimulatedCluster(normal_week(seed, days=days), clock)
    clock.sleep(days * 86400)
    counts = [0] * len(windows)
    passes = 0
    for service in SERVICES:
        series = shares(sim, service, START, clock.now())
        for t in np.arange(START + LOOKBACK, clock.now(), step):
            passes += 1
            cuts = [s.between(t - LOOKBACK, t + 1e-6) for s in series]
            for i, window in enumerate(windows):
                counts[i] += any(len(c) and window.fires(c) for c in cuts)
    return passes, counts


def choose(windows: Sequence[Window], leads: list[list[float]], fired: list[int]) -> Window:
    """The earliest mean first firing among those silent on the normal day that have a silent
    less strict neighbour (same length and bound, the next lower confidence)."""

    def silent(w: Window) -> bool:
        return fired[windows.index(w)] == 0

    def margin(w: Window) -> bool:
        lower = [v for v in windows if (v.seconds, v.bound) == (w.seconds, w.bound)]
        below = [v for v in lower if v.confidence < w.confidence]
        return bool(below) and silent(max(below, key=lambda v: v.confidence))

    def mean_lead(w: Window) -> float:  # a fault never seen counts as never
        found = leads[windows.index(w)]
        return float(np.mean([np.inf if np.isnan(x) else x for x in found]))

    fit = [w for w in windows if silent(w) and margin(w)]
    return min(fit, key=lambda w: (mean_lead(w), w.seconds))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chosen", action="store_true", help="the chosen window only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--step", type=float, default=60.0, help="seconds between passes")
    args = parser.parse_args(argv)
    windows = [CHOSEN] if args.chosen else CANDIDATES
    out: dict[str, object] = {}
    if not args.chosen:
        per_fault = [first_fire(windows, n, s, r) for n, s, r in FAULTS]
        leads = [list(x) for x in zip(*per_fault, strict=True)]
        passes, fired = normal_firings(windows, 1, args.days, args.step)
        for w, lead, count in zip(windows, leads, fired, strict=True):
            print(f"{w.name}: first fires {lead} min after the faults; {count}/{passes} normal")
        best = choose(windows, leads, fired)
        out["chosen"] = best.name
        print(f"chosen: {best.name}")
    else:
        for seed in args.seeds:
            passes, fired = normal_firings(windows, seed, args.days, args.step)
            out[f"seed {seed}"] = {"passes": passes, "fired": fired[0]}
            print(f"seed {seed}: {CHOSEN.name} fired on {fired[0]} of {passes} service-passes")
    print(json.dumps(out))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
