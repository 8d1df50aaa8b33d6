"""The watch before alerts fire (issue 15): heads-up lead time for a memory leak and a filling
disk, and false heads-ups in a normal week of the simulated shop.

Faults: the suite's ``memory-leak`` (checkout) and ``disk-filling`` (frontend), their onset moved
two hours after the simulation's anchor (so the watch's look-back holds only normal data at
first) and their rate varied (the suite's own rates fill memory and disk within a quarter of an
hour; real leaks take hours). The watch runs a pass every simulated minute from 30 minutes before
the onset; the alert fires when the scenario's own alert condition (checkout p95 latency above
1 s; frontend 5xx ratio above 2%) has held for 5 minutes, computed minute by minute from the same
metrics. Lead = alert time - first heads-up for the faulted service.

Normal weeks: ``tools.sim.week.normal_week`` (daily seasonality, a day-to-day wobble, the
simulation's noise; no fault), a pass every ``--week-step`` seconds; a heads-up opens a thread
unless the service has one open (a finding in the last ``open_hours``), as `medic serve` does.
False heads-ups per service-week = threads / (services x weeks).

Each case states the time from the fault's start to its alert and the lead. A heads-up 30 min
before the alert is only possible when the alert comes more than 30 min after the fault starts
(the suite's own rates alert within about 20 min); the target is reported per rate as the share
of cases with a lead of 30 min or more among those where it was possible. ``--onsets N`` plays
each rate N times, the fault starting 17 min later each time (the traffic's hourly wave, and
the minute of the watch's pass, fall differently), so a rate has more than one case.

Generalisation: the watch's defaults (horizon 4 h, trend 60 min, anomaly confidence 0.9,
symptoms only) were chosen on the TUNING set and are reported on the CHECK set, which the
choice never saw. Usage:
    python benchmarks/bench_watch.py                  # the tuning set (what `make bench` runs)
    python benchmarks/bench_watch.py --sets tuning check fresh [--week-step S]  # make bench-watch
    python benchmarks/bench_watch.py --sets check fresh --faults-only --onsets 3  # leads only
"""

from __future__ import annotations

import argparse
import json
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.config import Settings
from bot.watch.findings import Target
from bot.watch.runner import Watch
from bot.wiring.sources import sim_metric_source
from bot.wiring.watch import build_checks
from detectors import InMemoryMetricSource, MetricSource, Series
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster
from tools.sim.week import normal_week

START = 1_800_028_800.0  # a Monday 00:00 UTC is 1_799_971_200; the week curve starts at anchor
ONSET = 2 * 3600.0
MINUTE = 60.0
TARGET = 30 * MINUTE  # the heads-up's lead the issue asks for
SHIFT = 17 * MINUTE  # between two onsets of one rate (--onsets)
FOR = 5 * MINUTE  # the alert's `for:`
SERVICES = ("checkout", "frontend", "recommender")
# scenario -> (alerted service, metric, threshold): the scenario's alert, as a rule
ALERTS = {
    "memory-leak": ("checkout", "latency_p95_ms", 1000.0),
    "disk-filling": ("frontend", "error_ratio", 0.02),
}
TUNING = {"faults": [("memory-leak", 0.3), ("disk-filling", 0.5)], "weeks": [1], "days": 1.0}
CHECK = {
    "faults": [
        ("memory-leak", 0.15),
        ("memory-leak", 0.6),
        ("memory-leak", 2.0),  # the suite's own rate
        ("disk-filling", 0.25),
        ("disk-filling", 1.0),
        ("disk-filling", 3.0),  # the suite's own rate
    ],
    "weeks": [2, 3],
    "days": 7.0,
}
# After the check set showed the forecast late on fast faults (a fit over a window that is
# mostly flat still says flat), a short trend window was added; FRESH checks that change on
# rates and weeks nothing was chosen on.
FRESH = {
    "faults": [
        ("memory-leak", 0.4),
        ("memory-leak", 0.8),
        ("memory-leak", 1.5),
        ("disk-filling", 0.4),
        ("disk-filling", 0.75),
        ("disk-filling", 1.5),
    ],
    "weeks": [4, 5],
    "days": 7.0,
}
# The short trend window (watch.quick_trend_minutes) was chosen on the tuning set after the
# fresh set had been seen (its disk at 1.5/h was the miss), so FRESH is no longer unseen for it:
# FRESH2 holds rates and weeks nothing was chosen or looked at on, around the 30-minute edge.
FRESH2 = {
    "faults": [
        ("memory-leak", 0.5),
        ("memory-leak", 1.0),
        ("memory-leak", 1.2),
        ("disk-filling", 0.6),
        ("disk-filling", 1.25),
        ("disk-filling", 1.4),
    ],
    "weeks": [6, 7],
    "days": 7.0,
}
SETS = {"tuning": TUNING, "check": CHECK, "fresh": FRESH, "fresh2": FRESH2}

# Normal weeks with burst writes (``--bursts``): each service's disk perfectly quiet (its usage
# does not move between samples, as an idle disk's does not) but for bursts - a log rotation or
# a backup writing 1-3% of the disk in 15 s to 3 min and stopping, every 30 min to 4 h, its files
# removed 5-60 min later. Nothing is filling: every heads-up about the disk is a false one.
DISK = "disk_usage_ratio"
QUIET_LEVEL = 0.3


@dataclass(frozen=True)
class Burst:
    at: float  # seconds: the write starts
    seconds: float  # it writes for this long, at an even pace
    size: float  # share of the disk written
    removed: float  # seconds: the files are gone again


def burst_writes(seed: int, service: str, start: float, end: float) -> list[Burst]:
    """The bursts of ``service``'s disk between ``start`` and ``end`` (the same for a seed)."""
    rng = np.random.default_rng(zlib.crc32(f"bursts:{seed}:{service}".encode()))
    bursts = []
    t = start + rng.uniform(0, 3600)
    while t < end:
        seconds = float(rng.uniform(15, 180))
        removed = t + seconds + float(rng.uniform(5, 60)) * MINUTE
        bursts.append(Burst(t, seconds, float(rng.uniform(0.01, 0.03)), removed))
        t += float(rng.uniform(0.5, 4)) * 3600
    return bursts


def bursty(series: Series, bursts: Sequence[Burst]) -> Series:
    """``series`` as a quiet disk written in ``bursts`` (other metrics unchanged)."""
    if series.metric != DISK:
        return series
    ts = series.timestamps
    values = np.full(len(ts), QUIET_LEVEL)
    for b in bursts:
        written = b.size * np.clip((ts - b.at) / b.seconds, 0.0, 1.0)
        values += np.where(ts < b.removed, written, 0.0)
    return Series.of(series.metric, ts, values, series.labels)


def with_bursts(source: MetricSource, seed: int, start: float, end: float) -> MetricSource:
    """``source`` with every service's disk quiet but for its burst writes."""
    cache: dict[str, list[Burst]] = {}

    def fetch(namespace: str, service: str, a: float, b: float) -> list[Series]:
        if service not in cache:
            cache[service] = burst_writes(seed, service, start - 86400, end)
        return [bursty(s, cache[service]) for s in source.fetch(namespace, service, a, b)]

    return InMemoryMetricSource(fetch)


@dataclass(frozen=True)
class Lead:
    scenario: str
    rate: float
    headsup: float | None  # seconds after onset
    alert: float | None  # seconds after onset: the time from the fault's start to its alert
    first: str
    shift: float = 0.0  # seconds the onset was moved (--onsets)

    @property
    def lead_minutes(self) -> float | None:
        if self.headsup is None or self.alert is None:
            return None
        return (self.alert - self.headsup) / 60.0

    @property
    def possible(self) -> bool:
        """Whether a lead of TARGET could be had at all: the alert fires later than that after
        the fault starts (a heads-up cannot come before the fault)."""
        return self.alert is not None and self.alert > TARGET

    @property
    def met(self) -> bool:
        return self.lead_minutes is not None and self.lead_minutes >= TARGET / 60.0


def make_watch(
    sim: SimulatedCluster,
    settings: Settings,
    wrap: Callable[[MetricSource], MetricSource] = lambda source: source,
) -> Watch:
    return Watch(
        metrics=wrap(sim_metric_source(sim, settings.metrics.max_points)),
        checks=build_checks(settings),
        lookback=60 * settings.watch.lookback_minutes,
        configured_limits=settings.watch.limits,
        replicas=lambda t: sim.get_deployment(t.namespace, t.service).replicas,
    )


def alert_time(
    sim: SimulatedCluster, service: str, metric: str, threshold: float, end: float
) -> float | None:
    """The first minute at which ``metric`` has been above ``threshold`` for FOR seconds."""
    series = next(s for s in sim.metrics("shop", service, sim.anchor, end) if s.metric == metric)
    above = series.values > threshold
    held_since = None
    for t, hot in zip(series.timestamps, above, strict=True):
        if not hot:
            held_since = None
            continue
        held_since = t if held_since is None else held_since
        if t - held_since >= FOR and t % MINUTE == 0:
            return float(t)
    return None


def lead_time(
    name: str, rate: float, settings: Settings, max_hours: float = 12.0, shift: float = 0.0
) -> Lead:
    base = SCENARIOS[name]
    onset_at = ONSET + shift
    fault = replace(base.faults[0], offset=onset_at, size=rate)
    scenario = replace(base, faults=(fault,))
    clock = VirtualClock(START)
    sim = SimulatedCluster(scenario, clock)
    watch = make_watch(sim, settings)
    service, metric, threshold = ALERTS[name]
    clock.sleep(onset_at - 30 * MINUTE)
    first: tuple[float, str] | None = None
    end = START + onset_at + max_hours * 3600
    while clock.now() < end:
        result = watch.run([Target("shop", service)], clock.now())
        if result.findings and first is None:
            first = (clock.now(), result.findings[0].key)
            break
        clock.sleep(MINUTE)
    # the alert's time comes from the metrics alone, whenever the heads-up came
    clock.sleep(max(0.0, end - clock.now()))
    fired = alert_time(sim, service, metric, threshold, end)
    onset = START + onset_at
    return Lead(
        name,
        rate,
        None if first is None else first[0] - onset,
        None if fired is None else fired - onset,
        "" if first is None else first[1],
        shift,
    )


def first_stated(name: str, rate: float, settings: Settings) -> dict[str, object]:
    """The time to the limit the first heads-up about a fault states (``--eta``): the trend's
    time and the sooner end of its range, beside the time at the fault's own rate from the
    level at the heads-up (the share of the limit left / the rate)."""
    base = SCENARIOS[name]
    fault = replace(base.faults[0], offset=ONSET, size=rate)
    clock = VirtualClock(START)
    sim = SimulatedCluster(replace(base, faults=(fault,)), clock)
    watch = make_watch(sim, settings)
    service = ALERTS[name][0]
    clock.sleep(ONSET)
    for minute in range(1, 61):
        clock.sleep(MINUTE)
        found = watch.run([Target("shop", service)], clock.now()).findings
        limits = [f for f in found if f.eta_seconds is not None and f.limit is not None]
        if limits:
            f = limits[0]
            assert f.eta_seconds is not None and f.limit is not None
            soonest = f.eta_earliest_seconds if f.eta_earliest_seconds is not None else math.nan
            return {
                "fault": f"{name}@{rate:g}",
                "minutes_in": minute,
                "stated_minutes": round(f.eta_seconds / 60, 1),
                "soonest_minutes": round(soonest / 60, 1),
                "at_its_rate_minutes": round((f.limit.value - f.level) / rate * 60, 1),
            }
    return {"fault": f"{name}@{rate:g}", "minutes_in": None}


def by_rate(leads: Sequence[Lead]) -> dict[str, dict[str, object]]:
    """Per scenario and rate: each case's time from fault to alert and lead, and how many of
    the cases where a TARGET lead was possible had it."""
    rates: dict[str, list[Lead]] = {}
    for lead in leads:
        rates.setdefault(f"{lead.scenario}@{lead.rate:g}", []).append(lead)
    out: dict[str, dict[str, object]] = {}
    for key, cases in rates.items():
        possible = [c for c in cases if c.possible]
        out[key] = {
            "cases": len(cases),
            "fault_to_alert_minutes": [None if c.alert is None else c.alert / 60 for c in cases],
            "lead_minutes": [c.lead_minutes for c in cases],
            "possible": len(possible),
            "lead_30_of_possible": (
                sum(c.met for c in possible) / len(possible) if possible else None
            ),
        }
    return out


def false_headsups(
    seed: int, days: float, step: float, settings: Settings, bursts: bool = False
) -> dict[str, object]:
    """Heads-up threads in a normal week (``bursts``: its disks quiet but for burst writes)."""
    clock = VirtualClock(START)
    sim = SimulatedCluster(normal_week(seed, days=days), clock)
    end = START + days * 86400
    watch = make_watch(
        sim, settings, (lambda s: with_bursts(s, seed, START, end)) if bursts else lambda s: s
    )
    targets = [Target("shop", s) for s in SERVICES]
    open_seconds = 3600 * settings.watch.open_hours
    last_seen: dict[str, float] = {}
    threads: list[tuple[float, str, str]] = []
    passes = math.floor(days * 86400 / step)
    per_day = max(1, math.floor(86400 / step))
    for done in range(passes):
        if done and done % per_day == 0:
            print(
                f"  seed {seed}: day {done // per_day} done, {len(threads)} thread(s)", flush=True
            )
        now = clock.now()
        for f in watch.run(targets, now).findings:
            service = f.target.service
            if now - last_seen.get(service, -math.inf) > open_seconds:
                threads.append(((now - START) / 3600, service, f.key))
            last_seen[service] = now
        clock.sleep(step)
    return {
        "seed": seed,
        "bursts": bursts,
        "days": days,
        "passes": passes,
        "threads": len(threads),
        "per_service_week": len(threads) / (len(SERVICES) * days / 7),
        "first_threads": [f"{h:.1f} h {s} {k}" for h, s, k in threads[:10]],
    }


def without_memory(settings: Settings) -> Settings:
    """The watch as it was before a steady series remembered its own freed bursts (the
    baseline of ``--baseline``; the steady tail's, the short and steady windows' own
    before/after are in docs/benchmarks.md)."""
    return settings.model_copy(
        update={"watch": settings.watch.model_copy(update={"burst_span_minutes": 0.0})}
    )


def run(
    label: str,
    spec: dict[str, object],
    week_step: float,
    settings: Settings,
    onsets: int = 1,
    baseline: bool = False,
    bursts: bool = False,
) -> dict[str, object]:
    started = time.perf_counter()
    faults = spec["faults"]
    assert isinstance(faults, list)
    leads = [
        lead_time(name, rate, settings, shift=k * SHIFT)
        for name, rate in faults
        for k in range(onsets)
    ]
    before: list[Lead] = []
    if baseline:
        before = [
            lead_time(name, rate, without_memory(settings), shift=k * SHIFT)
            for name, rate in faults
            for k in range(onsets)
        ]
        for was, now in zip(before, leads, strict=True):
            pair = [
                "none"
                if x.lead_minutes is None or x.headsup is None
                else f"{x.lead_minutes:.0f} min (heads-up {x.headsup / 60:.0f} min in)"
                for x in (was, now)
            ]
            print(
                f"[{label}] {now.scenario} at {now.rate:g}/h (onset +{now.shift / 60:.0f} min): "
                f"lead before the burst memory {pair[0]}, with it {pair[1]}"
            )
    for lead in leads:
        shown = "none" if lead.lead_minutes is None else f"{lead.lead_minutes:.0f} min"
        headsup = "never" if lead.headsup is None else f"{lead.headsup / 60:.0f} min"
        alert = "never" if lead.alert is None else f"{lead.alert / 60:.0f} min"
        verdict = ("30 min met" if lead.met else "30 min missed") if lead.possible else (
            "30 min impossible: the alert comes sooner"
        )  # fmt: skip
        print(
            f"[{label}] {lead.scenario} at {lead.rate:g}/h (onset +{lead.shift / 60:.0f} min): "
            f"fault to alert {alert}, heads-up {headsup} after the fault ({lead.first}) -> "
            f"lead {shown}; {verdict}"
        )
    rates = by_rate(leads)
    for key, rate in rates.items():
        share = rate["lead_30_of_possible"]
        print(
            f"[{label}] {key}: lead >= 30 min in "
            + (
                f"{share:.0%} of the {rate['possible']} case(s) where it was possible"
                if isinstance(share, float)
                else "no case where it was possible"
            )
            + f" ({rate['cases']} case(s))"
        )
    possible = [lead for lead in leads if lead.possible]
    weeks_spec = spec["weeks"]
    assert isinstance(weeks_spec, list)
    days = float(spec["days"])  # type: ignore[arg-type]
    weeks = [false_headsups(seed, days, week_step, settings, bursts) for seed in weeks_spec]
    if baseline and bursts:
        weeks += [
            false_headsups(seed, days, week_step, without_memory(settings), bursts)
            | {"before": True}
            for seed in weeks_spec
        ]
    for week in weeks:
        print(
            f"[{label}] {'before: ' if week.get('before') else ''}"
            f"{'burst-write ' if week['bursts'] else ''}normal week seed {week['seed']} "
            f"({week['days']:g} days, "
            f"{week['passes']} passes): {week['threads']} heads-up thread(s), "
            f"{week['per_service_week']:.2f} per service-week {week['first_threads']}"
        )
    weeks = [w for w in weeks if not w.get("before")]
    threads = sum(int(w["threads"]) for w in weeks)  # type: ignore[call-overload]
    service_weeks = len(SERVICES) * days / 7 * len(weeks)
    return {
        "by_rate": rates,
        "baseline_by_rate": by_rate(before) if before else None,
        "lead_30_among_possible": (
            sum(lead.met for lead in possible) / len(possible) if possible else None
        ),
        "possible_cases": len(possible),
        "cases": len(leads),
        "min_lead_minutes": min(
            (lead.lead_minutes for lead in leads if lead.lead_minutes is not None),
            default=None,
        ),
        "false_headsups_per_service_week": threads / service_weeks if service_weeks else None,
        "service_weeks": service_weeks,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the tuning set only (the default)")
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["tuning"])
    parser.add_argument("--week-step", type=float, default=900.0, help="seconds between passes")
    parser.add_argument("--weeks-only", action="store_true", help="skip the faults")
    parser.add_argument("--seeds", type=int, nargs="+", help="these weeks instead of the set's")
    parser.add_argument("--faults-only", action="store_true", help="skip the normal weeks")
    parser.add_argument("--days", type=float, help="days of each normal week (default: the set's)")
    parser.add_argument(
        "--scenario", choices=sorted(ALERTS), help="only this fault's rates (e.g. disk-filling)"
    )
    parser.add_argument(
        "--onsets", type=int, default=1, help="cases per rate, the onset 17 min later each time"
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also play each fault (and --bursts week) as before a steady series remembered "
        "its own freed bursts (before/after in one run)",
    )
    parser.add_argument(
        "--bursts",
        action="store_true",
        help="normal weeks with each disk quiet but for burst writes (log rotation, backups)",
    )
    parser.add_argument(
        "--eta",
        action="store_true",
        help="only: the time to the limit each rate's first heads-up states, against the real",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.eta:
        rates = dict.fromkeys(
            (n, r)
            for s in args.sets
            for n, r in SETS[s]["faults"]  # type: ignore[attr-defined]
        )
        stated = [first_stated(n, r, settings) for n, r in rates]
        for row in stated:
            print(row)
        print(json.dumps(stated))
        return
    chosen = ["tuning"] if args.quick else args.sets
    for name in chosen:
        if args.weeks_only:
            SETS[name] = {**SETS[name], "faults": []}
        if args.seeds:
            SETS[name] = {**SETS[name], "weeks": args.seeds}
        if args.faults_only:
            SETS[name] = {**SETS[name], "weeks": []}
        if args.days:
            SETS[name] = {**SETS[name], "days": args.days}
        if args.scenario:
            faults = [f for f in SETS[name]["faults"] if f[0] == args.scenario]  # type: ignore[attr-defined]
            SETS[name] = {**SETS[name], "faults": faults}
    summary: dict[str, object] = {
        name: run(
            name, SETS[name], args.week_step, settings, args.onsets, args.baseline, args.bursts
        )
        for name in chosen
    }
    summary["week_step_seconds"] = args.week_step
    print(json.dumps(summary))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
