"""How the watch's burst memory (``watch.burst_span_minutes``, ``burst_margin``) was chosen: the
limit forecast alone, pass by pass, with heads-up THREADS counted as `medic serve` opens them (a
service's heads-up opens a thread unless it had one in the last ``open_hours``) - what the
on-call user sees - on the TUNING set of ``benchmarks/bench_watch.py`` only: its day of normal
week seed 1 with each disk quiet but for burst writes (``bench_watch.burst_writes``), its two
faults (leak 0.3/h, disk 0.5/h), and the same filling disk on a disk that wrote and freed bursts
before the fault began (the memory must not hold a real fill back for long).

Rule: among the candidates that see every tuning fault no later than the forecast without the
memory (the bursty disk's fill within 2 minutes of it), the fewest threads on the burst day;
ties to the least strict - the one that holds back least: the smaller margin, the short windows
only, the shorter span, the larger share a burst must give back. The memory only holds
heads-ups back, so a normal week's 0 stays 0.

``--chosen --seeds 2 3 4 --days 2`` counts the chosen memory's threads and firings with and
without it, in the same run, on burst-write weeks nothing was chosen on (the full
watch's threads: ``bench_watch.py --sets check --weeks-only --bursts --baseline``).

    python benchmarks/bench_watch_bursts.py                                # the choice (minutes)
    python benchmarks/bench_watch_bursts.py --chosen --seeds 2 3 4 5 6 7 --days 7
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from benchmarks.bench_watch import DISK, QUIET_LEVEL, Burst, burst_writes, bursty
from bot.config import Settings
from bot.watch.checks import ForecastCheck
from bot.wiring.sources import sim_metric_source
from bot.wiring.watch import build_checks
from detectors import Series
from detectors.forecast import current_rise, freed_rise
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

START = 1_800_028_800.0  # as bench_watch.py
ONSET = 2 * 3600.0
MINUTE = 60.0
LOOKBACK = 2 * 3600.0  # watch.lookback_minutes
HISTORY = 24 * 3600.0  # watch.burst_memory_hours
SCRAPE = 15.0
COARSE = 120.0  # a day read at most 720 points (metrics.max_points): a sample every 2 minutes
OPEN = 6 * 3600.0  # watch.open_hours
SERVICES = ("checkout", "frontend", "recommender")
FAULTS = (("memory-leak", "checkout", "memory_working_set_ratio", 0.3),
          ("disk-filling", "frontend", DISK, 0.5))  # fmt: skip


@dataclass(frozen=True)
class Memory:
    span: float  # seconds: a burst is written and freed within it
    freed: float  # share of its rise a burst must give back to count
    margin: float  # a new rise counts once above margin x the largest freed burst
    long: bool  # the long windows held too, not only the short and steady ones

    @property
    def name(self) -> str:
        scope = "all windows" if self.long else "short windows"
        return f"span {self.span / 60:g} min, freed {self.freed:g}, x{self.margin:g}, {scope}"


CANDIDATES = [
    Memory(span, freed, margin, long)
    for span, freed, margin, long in itertools.product(
        (3600.0, 7200.0), (0.5, 0.9), (1.0, 1.5, 2.0), (False, True)
    )
]
CHOSEN = Memory(3600.0, 0.9, 1.0, False)  # the rule above, tuning set only


@dataclass(frozen=True)
class Pass:
    """What one pass's forecast saw of one series, before any memory is asked."""

    long: bool  # the 60- and 20-minute windows reach the limit
    short: bool  # the 5-minute or the steady window does (its tail going on)
    steady: bool
    rise: dict[float, float]  # span -> the last sample above the span's lowest point
    freed: dict[tuple[float, float], float]  # (span, freed) -> the largest freed burst

    def fires(self, memory: Memory | None) -> bool:
        if memory is None:
            return self.long or self.short
        bursts = self.freed[(memory.span, memory.freed)]
        held = self.steady and bursts > 0 and self.rise[memory.span] <= memory.margin * bursts
        return (self.long and not (held and memory.long)) or (self.short and not held)


def checks() -> tuple[ForecastCheck, ForecastCheck]:
    """The forecast as shipped, without its memory: its long windows alone, its short ones."""
    (check,) = [c for c in build_checks(Settings()) if isinstance(c, ForecastCheck)]
    check = replace(check, burst_span=0.0)
    return replace(check, quick=None, steady=None), replace(check, trends=())


def coarse(series: Series, end: float) -> Series:
    """The day before ``end`` as a day's read returns it: a sample every COARSE seconds."""
    day = series.between(end - HISTORY, end + 1e-6)
    keep = np.isclose(np.mod(day.timestamps, COARSE), 0.0)
    return Series.of(day.metric, day.timestamps[keep], day.values[keep], day.labels)


def observe(
    series: Series,
    t: float,
    long: ForecastCheck,
    short: ForecastCheck,
    memories: Sequence[Memory] = CANDIDATES,
) -> Pass:
    recent = series.between(t - LOOKBACK, t + 1e-6)
    spans = sorted({m.span for m in memories})
    shares = sorted({m.freed for m in memories})
    window = recent.between(t - max(long.trends), math.inf).values
    if len(window) and np.ptp(window) == 0:  # flat for the longest window: no window fires
        zero = {(span, share): 0.0 for span in spans for share in shares}
        return Pass(False, False, True, dict.fromkeys(spans, 0.0), zero)
    day = coarse(series, t)
    found = [check._earliest(recent, 1.0) is not None for check in (long, short)]
    freed = {
        (span, share): max(freed_rise(recent, span, share), freed_rise(day, span, share))
        for span in spans
        for share in shares
    }
    return Pass(
        found[0],
        found[1],
        short._steady(recent, short.steady or 0.0),
        {span: current_rise(recent, span) for span in spans},
        freed,
    )


def quiet_disk(bursts: Sequence[Burst], start: float, end: float) -> Series:
    ts = np.arange(start, end + 1e-6, SCRAPE)
    return bursty(Series(DISK, ts, np.full(len(ts), QUIET_LEVEL), {}), bursts)


def burst_passes(
    seed: int, days: float, step: float, memories: Sequence[Memory] = CANDIDATES
) -> dict[str, list[tuple[float, Pass]]]:
    """Every service's disk, quiet but for its burst writes, pass by pass."""
    long, short = checks()
    out: dict[str, list[tuple[float, Pass]]] = {}
    end = START + days * 86400
    for service in SERVICES:
        writes = burst_writes(seed, service, START - 86400, end)
        disk = quiet_disk(writes, START - 86400, end)
        out[service] = [
            (t, observe(disk, t, long, short, memories)) for t in np.arange(START, end, step)
        ]
        print(f"  seed {seed} {service}: {len(out[service])} passes", flush=True)
    return out


def threads(passes: dict[str, list[tuple[float, Pass]]], memory: Memory | None) -> tuple[int, int]:
    """Heads-up threads (one per service unless it had a heads-up in the last OPEN seconds),
    and firings."""
    opened = fired = 0
    for seen in passes.values():
        last = -math.inf
        for t, p in seen:
            if not p.fires(memory):
                continue
            fired += 1
            opened += int(t - last > OPEN)
            last = t
    return opened, fired


def fault_passes(name: str, service: str, metric: str, rate: float, bursts: bool) -> list[Pass]:
    """A pass a minute from 30 minutes before the fault to 40 after (``bursts``: the disk
    also wrote and freed the tuning day's bursts before the fault began)."""
    base = SCENARIOS[name]
    fault = replace(base.faults[0], offset=ONSET, size=rate)
    clock = VirtualClock(START)
    sim = SimulatedCluster(replace(base, faults=(fault,)), clock)
    clock.sleep(ONSET + 40 * MINUTE)
    source = sim_metric_source(sim, 1_000_000)
    (series,) = [
        s for s in source.fetch("shop", service, START - 86400, clock.now()) if s.metric == metric
    ]
    if bursts:
        writes = [
            b for b in burst_writes(1, service, START - 86400, START + ONSET)
            if b.at + b.seconds < START + ONSET
        ]  # fmt: skip
        extra = bursty(Series(DISK, series.timestamps, np.zeros(len(series)), {}), writes)
        series = Series.of(
            metric, series.timestamps, series.values + extra.values - QUIET_LEVEL, {}
        )
    long, short = checks()
    times = np.arange(START + ONSET - 30 * MINUTE, START + ONSET + 40 * MINUTE, MINUTE)
    return [observe(series, t, long, short) for t in times]


def first(passes: list[Pass], memory: Memory | None) -> float:
    """Minutes after the fault's start of the first firing (nan: none)."""
    for k, p in enumerate(passes):
        if p.fires(memory):
            return float(k - 30)
    return math.nan


def choose_run(step: float) -> dict[str, object]:
    faults = [fault_passes(n, s, m, r, False) for n, s, m, r in FAULTS]
    faults.append(fault_passes("disk-filling", "frontend", DISK, 0.5, True))
    names = [f"{n}@{r:g}" for n, _, _, r in FAULTS] + ["disk-filling@0.5 on a bursty disk"]
    day = burst_passes(1, 1.0, step)
    before = [first(f, None) for f in faults]
    base_threads, base_fired = threads(day, None)
    print(f"without memory: first heads-up {before} min in; burst day {base_threads} threads, "
          f"{base_fired} firings")  # fmt: skip
    rows = []
    for m in CANDIDATES:
        leads = [first(f, m) for f in faults]
        opened, fired = threads(day, m)
        keeps = all(
            math.isfinite(a) and a <= b + (2 if k == 2 else 0)
            for k, (a, b) in enumerate(zip(leads, before, strict=True))
        )
        rows.append((m, leads, opened, fired, keeps))
        print(f"{m.name}: first heads-up {leads} min in; burst day {opened} threads, "
              f"{fired} firings{'' if keeps else ' (later on a fault: out)'}")  # fmt: skip
    fit = [r for r in rows if r[4]]
    best = min(fit, key=lambda r: (r[2], r[3], r[0].margin, r[0].long, r[0].span, -r[0].freed))
    print(f"chosen: {best[0].name}")
    return {
        "faults": names,
        "without": {"first": before, "threads": base_threads, "firings": base_fired},
        "chosen": best[0].name,
        "chosen_first": best[1],
        "chosen_threads": best[2],
        "chosen_firings": best[3],
    }


def chosen_run(seeds: Sequence[int], days: float, step: float) -> dict[str, object]:
    out: dict[str, object] = {}
    for seed in seeds:
        week = burst_passes(seed, days, step, [CHOSEN])
        (t0, f0), (t1, f1) = threads(week, None), threads(week, CHOSEN)
        print(f"seed {seed} ({days:g} days, a pass every {step:g} s, burst writes): threads "
              f"{t0} -> {t1}, firings {f0} -> {f1}")  # fmt: skip
        out[f"seed {seed}"] = {"threads": [t0, t1], "firings": [f0, f1]}
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chosen", action="store_true", help="the chosen memory on --seeds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--step", type=float, default=60.0, help="seconds between passes")
    args = parser.parse_args(argv)
    out = chosen_run(args.seeds, args.days, args.step) if args.chosen else choose_run(args.step)
    print(json.dumps(out))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
