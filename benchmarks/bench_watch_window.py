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

``--persist`` chooses, on the tuning set only (its faults, its normal day, and the same day with
each disk quiet but for burst writes: ``bench_watch.burst_writes``), how a steady series' trend
must go on up to its last sample; ``--steady --chosen --baseline [--bursts]`` counts the chosen
steady window with and without it on other weeks.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from benchmarks.bench_watch import burst_writes, bursty
from bot.wiring.sources import sim_metric_source
from detectors import ForecastRules, Series, time_to_threshold
from detectors.forecast import persists, relative_noise
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
        key = (*_print(series), self.seconds, self.confidence, self.bound)
        if key not in _FIRES:
            rules = ForecastRules(
                horizon=HORIZON, lookback=self.seconds, confidence=self.confidence
            )
            forecast = time_to_threshold(series, 1.0, rules)
            _FIRES[key] = (
                forecast is not None
                and forecast.eta <= HORIZON
                and forecast.latest <= self.bound * HORIZON
            )
        return _FIRES[key]


# The candidates share fits: one per (cut of a series, window), not one per candidate.
_FIRES: dict[tuple[object, ...], bool] = {}
_NOISE: dict[tuple[object, ...], float] = {}
_PERSISTS: dict[tuple[object, ...], bool] = {}


def _print(series: Series) -> tuple[object, ...]:
    """A cut of a series, as a memo key (its metric, labels, end and length)."""
    last = float(series.timestamps[-1]) if len(series) else math.nan
    return (series.metric, tuple(sorted(series.labels.items())), last, len(series))


def _noise(series: Series, before: float) -> float:
    key = (*_print(series), before)
    if key not in _NOISE:
        _NOISE[key] = relative_noise(series, before)
    return _NOISE[key]


@dataclass(frozen=True)
class Steady:
    """The chosen short window, and beside it a shorter one counted on steady series only
    (relative noise before it at most ``noise``; ``ForecastCheck.steady``)."""

    seconds: float
    confidence: float
    noise: float
    parts: int = 1  # the trend must go on through each of this many pieces of the window
    tail: float = 0.0  # and through its last this many seconds,
    share: float = 0.0  # there more than this share of the window's slope
    quick_too: bool = False  # the short window must see it go on too, on a steady series

    @property
    def name(self) -> str:
        persist = f" / goes on in {self.parts} parts" if self.parts > 1 else ""
        if self.tail > 0:
            persist += f" / last {self.tail:g} s > {self.share:g}"
        if self.quick_too:
            persist += " (short window too)"
        return (
            f"{CHOSEN.name} + steady {self.seconds / 60:g} min / {self.confidence:g} / "
            f"noise <= {self.noise:g}{persist}"
        )

    def fires(self, series: Series) -> bool:
        if CHOSEN.fires(series):
            steady = _noise(series, CHOSEN.seconds) <= self.noise
            if not (self.quick_too and steady) or self._persists(series, CHOSEN.seconds):
                return True
        if _noise(series, self.seconds) > self.noise:
            return False
        if not Window(self.seconds, self.confidence, 1.0).fires(series):
            return False
        return self._persists(series, self.seconds)

    def _persists(self, series: Series, seconds: float) -> bool:
        key = (*_print(series), seconds, self.parts, self.tail, self.share)
        if key not in _PERSISTS:
            _PERSISTS[key] = persists(series, seconds, self.parts, self.tail, self.share)
        return _PERSISTS[key]


CANDIDATES = [
    Window(s, c, b)
    for s, c, b in itertools.product((150.0, 180.0, 240.0, 300.0), (0.9, 0.99, 0.999), (1.0, 0.5))
]
CHOSEN = Window(300.0, 0.99, 1.0)
STEADY_CANDIDATES = [
    Steady(s, c, n)
    for s, c, n in itertools.product(
        (150.0, 180.0, 240.0), (0.9, 0.99, 0.999), (0.002, 0.005, 0.01, 0.02, math.inf)
    )
]
STEADY_BEFORE = Steady(180.0, 0.99, 0.005)  # chosen with --steady on the tuning set
# The steady window must see its trend go on through the window (--persist, tuning set only,
# with the tuning day's burst writes): pieces x the least share of the window's slope each.
PERSIST_CANDIDATES = [
    Steady(180.0, 0.99, 0.005, p, tail, share, quick)
    for quick, p, (tail, share) in itertools.product(
        (False, True),
        (1, 2),
        ((0.0, 0.0), *itertools.product((30.0, 45.0, 60.0, 90.0), (0.5, 0.75, 1.0))),
    )
    if not (quick and p == 1 and tail == 0)
]
STEADY = Steady(180.0, 0.99, 0.005, 1, 30.0, 0.75, True)  # chosen with --persist, tuning set


def shares(sim: SimulatedCluster, service: str, start: float, end: float) -> list[Series]:
    source = sim_metric_source(sim, 1_000_000)
    return [s for s in source.fetch("shop", service, start, end) if s.metric in SHARES]


def first_fire(
    windows: Sequence[Window | Steady], name: str, service: str, rate: float
) -> list[float]:
    """Minutes after the fault's start of each window's first firing (a pass every minute
    from 30 minutes before it; nan: not within 40 minutes)."""
    base = SCENARIOS[name]
    fault = replace(base.faults[0], offset=ONSET, size=rate)
    clock = VirtualClock(START)
    sim = SimulatedCluster(replace(base, faults=(fault,)), clock)
    clock.sleep(ONSET + 40 * MINUTE)
    _FIRES.clear()  # another fault: the same keys, other values
    _NOISE.clear()
    _PERSISTS.clear()
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
    windows: Sequence[Window | Steady], seed: int, days: float, step: float, bursts: bool = False
) -> tuple[int, list[int]]:
    """Service-passes of a normal week, and on how many each window fired (``bursts``: the
    week's disks quiet but for burst writes, ``bench_watch.burst_writes``)."""
    clock = VirtualClock(START)
    sim = SimulatedCluster(normal_week(seed, days=days), clock)
    clock.sleep(days * 86400)
    _FIRES.clear()  # another seed's week: the same keys, other values
    _NOISE.clear()
    _PERSISTS.clear()
    counts = [0] * len(windows)
    passes = 0
    for service in SERVICES:
        series = shares(sim, service, START, clock.now())
        if bursts:
            writes = burst_writes(seed, service, START - 86400, clock.now())
            series = [bursty(s, writes) for s in series]
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


def choose_steady(windows: Sequence[Steady], leads: list[list[float]], fired: list[int]) -> Steady:
    """As :func:`choose`, for the steady window: silent on the normal day, with its less strict
    neighbours silent too (the next lower confidence, and the next looser noise bound); the
    earliest mean first firing, ties to the most conservative (longer, surer, stricter)."""

    def silent(w: Steady) -> bool:
        return fired[windows.index(w)] == 0

    def margin(w: Steady) -> bool:
        same = [v for v in windows if v.seconds == w.seconds]
        lower = [v for v in same if v.noise == w.noise and v.confidence < w.confidence]
        looser = [v for v in same if v.confidence == w.confidence and v.noise > w.noise]
        return (
            bool(lower)
            and silent(max(lower, key=lambda v: v.confidence))
            and (not looser or silent(min(looser, key=lambda v: v.noise)))
        )

    def mean_lead(w: Steady) -> float:
        found = leads[windows.index(w)]
        return float(np.mean([np.inf if np.isnan(x) else x for x in found]))

    fit = [w for w in windows if silent(w) and margin(w)]
    return min(fit, key=lambda w: (mean_lead(w), -w.seconds, -w.confidence, w.noise))


def choose_persist(
    windows: Sequence[Steady], leads: list[list[float]], fired: list[int], burst: list[int]
) -> Steady:
    """The persistence the steady window asks: among the candidates silent on the normal day
    whose mean first firing on the tuning faults is no later than without persistence (the
    first candidate), the fewest firings on the day's burst writes; ties to the least strict
    (the steady window alone, fewest pieces, shortest tail, smallest share) - it asks least
    of a real trend."""

    def mean_lead(w: Steady) -> float:
        found = leads[windows.index(w)]
        return float(np.mean([np.inf if np.isnan(x) else x for x in found]))

    fit = [
        w for i, w in enumerate(windows) if fired[i] == 0 and mean_lead(w) <= mean_lead(windows[0])
    ]
    return min(fit, key=lambda w: (burst[windows.index(w)], w.quick_too, w.parts, w.tail, w.share))


def bursts_hit(seed: int, days: float, step: float) -> dict[str, int]:
    """``--per-burst``: how many of a burst-write week's bursts the steady window before and
    after ``--persist`` fires on (a pass from its start to 10 minutes after its end) - the
    heads-ups a user would get where no thread is already open."""
    clock = VirtualClock(START)
    sim = SimulatedCluster(normal_week(seed, days=days), clock)
    clock.sleep(days * 86400)
    _FIRES.clear()
    _NOISE.clear()
    _PERSISTS.clear()
    total = 0
    hit: list[set[tuple[str, int]]] = [set(), set()]
    for service in SERVICES:
        writes = burst_writes(seed, service, START - 86400, clock.now())
        writes = [b for b in writes if START + LOOKBACK <= b.at < clock.now()]
        total += len(writes)
        series = [bursty(s, writes) for s in shares(sim, service, START, clock.now())]
        disk = [s for s in series if s.metric == "disk_usage_ratio"]
        for t in np.arange(START + LOOKBACK, clock.now(), step):
            cuts = [s.between(t - LOOKBACK, t + 1e-6) for s in disk]
            for i, window in enumerate((STEADY_BEFORE, STEADY)):
                if any(len(c) and window.fires(c) for c in cuts):
                    hit[i].update(
                        (service, k)
                        for k, b in enumerate(writes)
                        if b.at <= t <= b.at + b.seconds + 600
                    )
    return {"bursts": total, "hit_before": len(hit[0]), "hit_after": len(hit[1])}


def persist_run(days: float, step: float) -> dict[str, object]:
    """--persist: every candidate on the tuning faults, day and the day's burst writes."""
    windows = PERSIST_CANDIDATES
    per_fault = [first_fire(windows, n, s, r) for n, s, r in FAULTS]
    leads = [list(x) for x in zip(*per_fault, strict=True)]
    passes, fired = normal_firings(windows, 1, days, step)
    _, burst = normal_firings(windows, 1, days, step, bursts=True)
    for w, lead, count, b in zip(windows, leads, fired, burst, strict=True):
        print(
            f"{w.name}: first fires {lead} min after the faults; {count}/{passes} normal, "
            f"{b}/{passes} with burst writes"
        )
    persist = choose_persist(windows, leads, fired, burst)
    print(f"chosen: {persist.name}")
    return {"chosen": persist.name}


def chosen_run(
    windows: Sequence[Window | Steady], seeds: Sequence[int], days: float, step: float, bursts: bool
) -> dict[str, object]:
    """--chosen: the chosen window's firings on other weeks (a check: nothing chosen there)."""
    out: dict[str, object] = {}
    kind = "burst writes" if bursts else "normal"
    for seed in seeds:
        passes, fired = normal_firings(windows, seed, days, step, bursts)
        out[f"seed {seed}"] = {
            "passes": passes,
            "bursts": bursts,
            "fired": dict(zip((w.name for w in windows), fired, strict=True)),
        }
        for w, count in zip(windows, fired, strict=True):
            print(f"seed {seed} ({kind}): {w.name} fired on {count} of {passes} service-passes")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chosen", action="store_true", help="the chosen window only")
    parser.add_argument(
        "--steady",
        action="store_true",
        help="the steady-series window's candidates beside the chosen short window "
        "(with --chosen: the chosen steady window)",
    )
    parser.add_argument(
        "--persist",
        action="store_true",
        help="how the steady window's trend must go on through it: the candidates, on the "
        "tuning faults, day and the day's burst writes",
    )
    parser.add_argument(
        "--bursts",
        action="store_true",
        help="with --chosen: the weeks' disks quiet but for burst writes (bench_watch.py)",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="with --steady --chosen: the steady window as it was before --persist too",
    )
    parser.add_argument(
        "--per-burst",
        action="store_true",
        help="the bursts of --seeds' burst-write weeks the steady window fires on, before and "
        "after --persist",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--step", type=float, default=60.0, help="seconds between passes")
    args = parser.parse_args(argv)
    windows: Sequence[Window | Steady]
    if args.persist:
        windows = PERSIST_CANDIDATES
    elif args.steady:
        if args.chosen:
            windows = [STEADY_BEFORE, STEADY] if args.baseline else [STEADY]
        else:
            windows = STEADY_CANDIDATES
    else:
        windows = [CHOSEN] if args.chosen else CANDIDATES
    out: dict[str, object] = {}
    if args.per_burst:
        out = {f"seed {seed}": bursts_hit(seed, args.days, args.step) for seed in args.seeds}
        print(out)
    elif args.persist:
        out = persist_run(args.days, args.step)
    elif args.steady and not args.chosen:
        per_fault = [first_fire(windows, n, s, r) for n, s, r in FAULTS]
        leads = [list(x) for x in zip(*per_fault, strict=True)]
        passes, fired = normal_firings(windows, 1, args.days, args.step)
        for w, lead, count in zip(windows, leads, fired, strict=True):
            print(f"{w.name}: first fires {lead} min after the faults; {count}/{passes} normal")
        steady = choose_steady(STEADY_CANDIDATES, leads, fired)
        out["chosen"] = steady.name
        print(f"chosen: {steady.name}")
    elif not args.chosen:
        per_fault = [first_fire(windows, n, s, r) for n, s, r in FAULTS]
        leads = [list(x) for x in zip(*per_fault, strict=True)]
        passes, fired = normal_firings(windows, 1, args.days, args.step)
        for w, lead, count in zip(windows, leads, fired, strict=True):
            print(f"{w.name}: first fires {lead} min after the faults; {count}/{passes} normal")
        best = choose(CANDIDATES, leads, fired)
        out["chosen"] = best.name
        print(f"chosen: {best.name}")
    else:
        out = chosen_run(windows, args.seeds, args.days, args.step, args.bursts)
    print(json.dumps(out))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
