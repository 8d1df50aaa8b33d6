"""The watch remembers a quiet disk's own bursts: a backup or a log rotation that writes a few
percent in a couple of minutes and whose files are removed later is no heads-up every time it
runs (each long burst looked, while it was being written, like a disk starting to fill: a
thread every few hours that the on-call user learns to ignore), while a disk that really fills
- in bursts that are never freed, or steadily past what its bursts ever did - still is."""

from __future__ import annotations

import numpy as np

from bot.config import Settings
from bot.watch.findings import Target
from bot.watch.runner import Watch
from bot.wiring.watch import build_checks
from detectors import InMemoryMetricSource, Series

SCRAPE = 15.0
NOW = 1_800_000_000.0
DAY = 86400.0
DISK = "disk_usage_ratio"
TARGET = Target("shop", "frontend")


def disk(values: object) -> InMemoryMetricSource:
    """A disk whose usage at each scrape is ``values(timestamps)``, read as Prometheus reads
    it (at most 720 points a series: a day comes a sample every 2 minutes)."""

    def fetch(namespace: str, service: str, start: float, end: float) -> list[Series]:
        ts = np.arange(np.ceil(start / SCRAPE) * SCRAPE, end + 1e-6, SCRAPE)
        return [Series(DISK, ts, values(ts), {"mountpoint": "/data"})]  # type: ignore[operator]

    return InMemoryMetricSource(fetch, 720)


def watch(source: InMemoryMetricSource) -> Watch:
    return Watch(metrics=source, checks=build_checks(Settings()), lookback=7200.0)


def bursts(ts: np.ndarray, *, every: float, writing: float, size: float, kept: float | None):
    """A quiet disk at 30% written ``size`` over ``writing`` seconds every ``every`` seconds,
    each burst's files removed ``kept`` seconds after it ends (never: None)."""
    k = np.floor((ts - (NOW - 2 * DAY)) / every)
    since = ts - (NOW - 2 * DAY) - k * every
    written = size * np.clip(since / writing, 0.0, 1.0)
    if kept is None:
        return 0.3 + size * k + written
    return 0.3 + np.where(since < writing + kept, written, 0.0)


def passes_around_bursts(w: Watch, every: float, hours: float) -> list[str]:
    """Every finding of a pass each 30 s from each burst's start to 3.5 minutes after it (no
    other pass can see a trend the quiet disk does not have), over the next ``hours``."""
    found = []
    starts = np.arange(NOW - 2 * DAY, NOW + hours * 3600, every)
    for start in starts[starts >= NOW]:
        for t in np.arange(start + 30, start + 240, 30):
            found += [f"{(t - NOW) / 3600:.2f} h {f.key}" for f in w.run([TARGET], t).findings]
    return found


def test_a_quiet_disk_whose_long_bursts_are_freed_again_gets_no_heads_up() -> None:
    """A backup writing 2.5% of the disk in 2.5 minutes every 100 minutes, its files removed
    40 minutes later: 5 hours of passes around every burst raise nothing (each burst, while
    written, is the first minutes of a fill to a pass that does not remember the others)."""
    every = 6000.0
    source = disk(lambda ts: bursts(ts, every=every, writing=150.0, size=0.025, kept=2400.0))
    assert passes_around_bursts(watch(source), every, 5.0) == []


def test_a_disk_that_fills_in_bursts_it_never_frees_is_still_a_heads_up_in_time() -> None:
    """Bursts of 3% in a minute every 10 minutes that nothing removes, from a quiet disk at
    30%: the disk gains 18% an hour, full in under 4 hours. A pass a minute raises a heads-up
    within the first hour, saying hours, not days."""
    began = NOW - 3600.0

    def stairs(ts: np.ndarray) -> np.ndarray:
        since = np.clip(ts - began, 0.0, None)
        k = np.floor(since / 600.0)
        return 0.3 + 0.03 * k + 0.03 * np.clip((since - 600.0 * k) / 60.0, 0.0, 1.0)

    w = watch(disk(stairs))
    first = next(
        (m, found) for m in range(0, 120, 2) if (found := w.run([TARGET], began + 60 * m).findings)
    )
    assert first[0] <= 60, first
    (finding,) = first[1]
    assert finding.subject == DISK
    assert finding.eta_seconds is not None and finding.eta_seconds < 4 * 3600


def test_a_steady_fill_on_a_disk_with_freed_bursts_is_a_heads_up_once_past_them() -> None:
    """A disk that wrote and freed 2.5% bursts all day starts filling at 1.5 of the disk an
    hour (full in 28 minutes): a heads-up as soon as it stands above its largest burst, 2
    minutes after the fault starts, as on a disk without bursts, well before it is full."""
    every = 6000.0
    onset = NOW - 30.0

    def filling(ts: np.ndarray) -> np.ndarray:
        quiet = bursts(ts, every=every, writing=150.0, size=0.025, kept=2400.0)
        return quiet + 1.5 / 3600 * np.clip(ts - onset, 0.0, None)

    w = watch(disk(filling))
    minutes = next(m for m in range(1, 20) if w.run([TARGET], onset + 60 * m).findings)
    assert minutes <= 3
