"""The limit forecast's steady window: a series that barely moves between samples (a disk's
usage) is sure of a new slope within two minutes; the same two minutes on a series that
wobbles by percents (a working set) say nothing, since there they agree on a slope by chance."""

from __future__ import annotations

import numpy as np

from bot.config import Settings
from bot.watch.checks import ForecastCheck
from bot.watch.findings import Concern, Limit, ServiceView, Target
from bot.wiring.watch import build_checks
from detectors import Series

SCRAPE = 15.0
NOW = 1_800_000_000.0


def rising(metric: str, wobble: float, crc: int) -> Series:
    """Two hours at 0.3 of the limit, wobbling by ``wobble`` of the level per sample, then the
    last two minutes rising at 1.5 of the limit per hour."""
    ts = np.arange(NOW - 7200, NOW + 1e-6, SCRAPE)
    noise = np.random.default_rng(crc).uniform(-1, 1, len(ts))
    values = 0.3 * (1 + wobble * noise) + np.where(ts > NOW - 120, 1.5 / 3600 * (ts - NOW + 120), 0)
    return Series(metric, ts, values, {})


def forecast() -> ForecastCheck:
    (check,) = [c for c in build_checks(Settings()) if isinstance(c, ForecastCheck)]
    return check


def view(series: Series) -> ServiceView:
    return ServiceView(
        Target("shop", "frontend"), NOW, [series], {series.metric: Limit(1.0, "a share")}
    )


def test_two_minutes_of_a_rise_are_a_heads_up_on_a_steady_disk_not_on_a_wobbling_series() -> None:
    found = forecast().run(view(rising("disk_usage_ratio", 0.005, 1)))
    assert [(f.concern, f.subject) for f in found] == [(Concern.LIMIT, "disk_usage_ratio")]
    assert found[0].eta_seconds is not None and found[0].eta_seconds < 3600
    # the same rise on a series that wobbles by 2% per sample waits for the 5-minute window:
    # two minutes of such samples agree on a slope by chance a few times a normal day
    assert forecast().run(view(rising("memory_working_set_ratio", 0.02, 2))) == []


def burst_written(seconds_since: float, writing: float = 120.0) -> Series:
    """Two hours of a perfectly quiet disk at 0.3 (an idle disk's usage does not move between
    samples), and a backup that wrote 2% of it over ``writing`` seconds, starting
    ``seconds_since`` seconds ago, then stopped."""
    ts = np.arange(NOW - 7200, NOW + 1e-6, SCRAPE)
    written = 0.02 * np.clip((ts - (NOW - seconds_since)) / writing, 0.0, 1.0)
    return Series("disk_usage_ratio", ts, 0.3 + written, {})


def test_a_burst_write_on_a_quiet_disk_that_stopped_is_no_heads_up() -> None:
    """A log rotation or a backup writes a few percent in a minute or two and stops: once it
    has stopped it is no trend, though a quiet disk counts as steady and its few samples of the
    write agree on a slope. (While the write goes on, it looks like the start of a filling
    disk, and a pass then can only say so.)"""
    for after_it_stopped in (30, 45, 60, 90, 120):
        series = burst_written(120.0 + after_it_stopped)
        assert forecast().run(view(series)) == [], after_it_stopped
    # a disk that goes on filling at the same pace is still a heads-up
    ts = np.arange(NOW - 7200, NOW + 1e-6, SCRAPE)
    filling = 0.3 + 0.01 / 60 * np.clip(ts - (NOW - 150), 0.0, None)
    (found,) = forecast().run(view(Series("disk_usage_ratio", ts, filling, {})))
    assert found.subject == "disk_usage_ratio"
