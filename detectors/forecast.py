"""Forecasting exhaustion: when will a metric (disk, memory, a connection pool) cross its limit?

A robust linear trend (Theil-Sen: the median of pairwise slopes, with its confidence interval) is
fitted to the recent points. The crossing time follows from the trend; the interval's faster and
slower slopes bound it (``earliest``/``latest``; ``latest`` is infinite when the slower slope
might never get there). A predictive alert fires before the outage, not after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detectors.findings import Direction, Finding, FindingKind, Forecast, ratio
from detectors.series import Series

MIN_POINTS = 10


@dataclass(frozen=True)
class ForecastRules:
    horizon: float = 6 * 3600.0  # report crossings expected within this many seconds
    lookback: float = 1800.0  # fit the trend on this many seconds before the last point
    confidence: float = 0.9


def time_to_threshold(series: Series, threshold: float, rules: ForecastRules) -> Forecast | None:
    """The crossing of ``threshold`` at the current trend, in seconds after the last point; the
    limit is approached from the side the recent points started on (0 if already crossed).
    None if the trend does not head there or there are too few points."""
    s = Series.of(series.metric, series.timestamps, series.values, series.labels)
    if len(s) < MIN_POINTS or not math.isfinite(threshold):
        return None
    recent = s.between(float(s.timestamps[-1]) - rules.lookback, math.inf)
    if len(recent) < MIN_POINTS or np.ptp(recent.timestamps) <= 0:
        return None
    t = recent.timestamps - recent.timestamps[-1]  # now = 0; keeps the fit well conditioned
    # imported here, not at the top: see detectors.drift.drift_finding
    from scipy.stats import theilslopes

    slope, level, low, high = (
        float(v) for v in theilslopes(recent.values, t, alpha=rules.confidence)[:4]
    )
    side = 1.0 if threshold >= float(np.median(recent.values[: MIN_POINTS // 2])) else -1.0
    gap = side * (threshold - level)  # > 0 while the limit is still ahead
    if gap <= 0:
        return Forecast(threshold, 0.0, 0.0, 0.0, slope)
    slower, faster = sorted((side * low, side * high))
    if side * slope <= 0 or not math.isfinite(slope):
        return None
    return Forecast(
        threshold,
        eta=gap / (side * slope),
        earliest=gap / faster if faster > 0 else math.inf,
        latest=gap / slower if slower > 0 else math.inf,
        slope=slope,
    )


def forecast_finding(
    series: Series, threshold: float, rules: ForecastRules = ForecastRules()
) -> Finding | None:
    """A forecast finding when the crossing may come within ``rules.horizon``."""
    forecast = time_to_threshold(series, threshold, rules)
    if forecast is None or forecast.earliest > rules.horizon:
        return None
    now = float(series.timestamps[-1])
    level = float(series.values[-1])
    within = forecast.latest <= rules.horizon
    return Finding(
        metric=series.metric,
        labels=dict(series.labels),
        start=now,
        end=now + forecast.eta,
        direction=Direction.UP if threshold >= level else Direction.DOWN,
        baseline=level,
        observed=threshold,
        magnitude=ratio(threshold, level),
        confidence=0.9 if within else 0.5,
        detector="forecast",
        details={"eta_seconds": forecast.eta, "slope_per_second": forecast.slope},
        kind=FindingKind.FORECAST,
        forecast=forecast,
    )


def relative_noise(series: Series, before: float) -> float:
    """How noisy ``series`` was up to ``before`` seconds ahead of its last point, relative to its
    level: the median absolute step between successive samples over the median absolute value
    (inf with fewer than :data:`MIN_POINTS` samples there, or a level of 0). Measured on the
    time before a short trend window, so the trend being judged does not count as noise: a disk
    whose usage moves by a few parts in a thousand per sample is steady, a working set that
    wobbles by percents is not."""
    s = Series.of(series.metric, series.timestamps, series.values, series.labels)
    if len(s) == 0:
        return math.inf
    earlier = s.between(-math.inf, float(s.timestamps[-1]) - before)
    values = earlier.values[np.isfinite(earlier.values)]
    if len(values) < MIN_POINTS:
        return math.inf
    level = float(np.median(np.abs(values)))
    if level <= 0:
        return math.inf
    return float(np.median(np.abs(np.diff(values)))) / level


def persists(
    series: Series, lookback: float, parts: int = 2, tail: float = 0.0, share: float = 0.0
) -> bool:
    """Whether the trend of the last ``lookback`` seconds goes on through the whole window and
    up to its end, not in one step that stopped: each of its ``parts`` consecutive pieces moves
    the window's way (a Theil-Sen slope of the same sign), and its last ``tail`` seconds (at
    least 3 samples) by more than ``share`` of the window's own slope. A burst write on a quiet
    disk (a log rotation, a backup writing 2% in a minute) is flat in one half of the window,
    or flat again at its end; a filling disk moves all along. ``parts`` of 1 and no ``tail``
    ask nothing."""
    if parts <= 1 and tail <= 0:
        return True
    s = Series.of(series.metric, series.timestamps, series.values, series.labels)
    if len(s) == 0:
        return False
    recent = s.between(float(s.timestamps[-1]) - lookback, math.inf)
    keep = np.isfinite(recent.values)
    t, v = recent.timestamps[keep] - recent.timestamps[-1], recent.values[keep]
    if len(t) < max(2 * parts, 3) or np.ptp(t) <= 0:
        return False
    from scipy.stats import theilslopes  # as in time_to_threshold

    def slope(piece: np.ndarray) -> float:
        return float(theilslopes(v[piece], t[piece])[0]) if np.ptp(t[piece]) > 0 else 0.0

    whole = slope(np.arange(len(t)))
    if whole == 0 or not math.isfinite(whole):
        return False
    pieces = np.array_split(np.arange(len(t)), parts) if parts > 1 else []
    if any(not slope(piece) / whole > 0 for piece in pieces):
        return False
    if tail > 0:
        last = np.arange(min(len(t) - 3, int(np.searchsorted(t, -tail))), len(t))
        return slope(last) / whole > share
    return True


def recent_eta(series: Series, threshold: float, lookback: float) -> float:
    """Seconds to ``threshold`` at the trend of the last half of the last ``lookback`` seconds
    (inf when that half does not head there, or has too few samples). A trend minutes old,
    fitted on a window still partly from before it began, runs late: a disk full in 26 minutes
    read as 42. The later half is all trend sooner than the whole window is."""
    s = Series.of(series.metric, series.timestamps, series.values, series.labels)
    if len(s) == 0 or not math.isfinite(threshold):
        return math.inf
    half = s.between(float(s.timestamps[-1]) - lookback / 2, math.inf)
    keep = np.isfinite(half.values)
    t, v = half.timestamps[keep] - half.timestamps[-1], half.values[keep]
    if len(t) < MIN_POINTS // 2 or np.ptp(t) <= 0:
        return math.inf
    from scipy.stats import theilslopes  # as in time_to_threshold

    slope, level = (float(x) for x in theilslopes(v, t)[:2])
    gap = threshold - level
    if gap == 0:
        return 0.0
    rate = slope if gap > 0 else -slope
    return abs(gap) / rate if rate > 0 and math.isfinite(rate) else math.inf


def _trailing_min(v: np.ndarray, size: int) -> np.ndarray:
    """The lowest of the ``size`` samples up to each sample."""
    from scipy.ndimage import minimum_filter1d  # as theilslopes above

    return np.asarray(minimum_filter1d(v, size, mode="nearest", origin=(size - 1) // 2))


def freed_rise(series: Series, span: float, freed: float) -> float:
    """The largest rise ``series`` made and gave back again: at a sample, how far it stood above
    the lowest point of the ``span`` seconds before it, counted when within ``span`` seconds
    after it came down again by at least ``freed`` of that rise (0 if never). A quiet disk
    that a backup or a log rotation writes in bursts whose files are removed later shows its
    bursts here; a disk that fills, in bursts or not, gives nothing back."""
    s = Series.of(series.metric, series.timestamps, series.values, series.labels)
    keep = np.isfinite(s.values)
    t, v = s.timestamps[keep], s.values[keep]
    if len(t) < 3 or span <= 0 or np.ptp(t) <= 0:
        return 0.0
    # the span in samples at the series' usual step (a gap stretches it: more is compared)
    size = int(min(len(v), round(span / float(np.median(np.diff(t)))) + 1))
    rise = v - _trailing_min(v, size)
    fall = v - _trailing_min(v[::-1], size)[::-1]  # the lowest point of the span after it
    given_back = (rise > 0) & (fall >= freed * rise)
    return float(rise[given_back].max()) if given_back.any() else 0.0


def current_rise(series: Series, span: float) -> float:
    """How far the last sample stands above the lowest point of the last ``span`` seconds."""
    s = Series.of(series.metric, series.timestamps, series.values, series.labels)
    recent = s.between(float(s.timestamps[-1]) - span, math.inf) if len(s) else s
    values = recent.values[np.isfinite(recent.values)]
    if len(values) == 0 or not math.isfinite(float(s.values[-1])):
        return 0.0
    return float(s.values[-1] - values.min())
