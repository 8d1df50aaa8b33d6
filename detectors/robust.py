"""Robust baseline detector: median/MAD z-scores of a window against the window before it.

Median and MAD ignore the outliers they are looking for, so one spike in the baseline does not
hide the next one. A metric is abnormal when a sustained run of points (not a single sample) leaves
the band in the same direction and moves by a meaningful relative amount.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from detectors.findings import Direction, Finding
from detectors.series import FloatArray, Series

# MAD of a normal distribution is 0.6745 sigma; scaling by 1.4826 makes it a sigma estimate.
MAD_TO_SIGMA = 1.4826


def robust_zscore(values: FloatArray, baseline: FloatArray) -> FloatArray:
    """Z-scores of ``values`` against the median and MAD of ``baseline``.

    A flat baseline has MAD 0; the scale then falls back to 1% of the median's magnitude (or a
    tiny epsilon for an all-zero baseline), so any real movement off a constant line scores high
    instead of dividing by zero.
    """
    if baseline.size == 0:
        return np.zeros_like(values)
    median = float(np.median(baseline))
    mad = float(np.median(np.abs(baseline - median))) * MAD_TO_SIGMA
    scale = max(mad, 0.01 * abs(median), 1e-9)
    return (values - median) / scale


class RobustBaselineDetector:
    """Find sustained departures from the baseline window.

    ``threshold`` is the |z| a point must exceed, ``min_run`` the number of consecutive points that
    must exceed it in one direction, and ``min_relative_change`` the smallest change of level worth
    reporting (a 2% move of a very stable metric is significant but not interesting).
    """

    name = "robust_baseline"

    def __init__(
        self,
        threshold: float = 4.0,
        min_run: int = 3,
        min_baseline_points: int = 10,
        min_relative_change: float = 0.1,
    ) -> None:
        self.threshold = threshold
        self.min_run = min_run
        self.min_baseline_points = min_baseline_points
        self.min_relative_change = min_relative_change

    def detect(self, series: Series, split_at: float) -> Finding | None:
        """Compare the points at or after ``split_at`` with the points before it."""
        baseline = series.values[series.timestamps < split_at]
        scan = series.between(split_at, math.inf)
        if baseline.size < self.min_baseline_points or len(scan) < self.min_run:
            return None
        level = float(np.median(baseline))
        z = robust_zscore(scan.values, baseline)
        relative = np.abs(scan.values - level) / max(abs(level), 1e-9)
        meaningful = relative >= self.min_relative_change
        for direction, sign in ((Direction.UP, 1.0), (Direction.DOWN, -1.0)):
            abnormal = (sign * z > self.threshold) & meaningful
            first = _first_run(abnormal, self.min_run)
            if first is None:
                continue
            return self._finding(series, scan, z, abnormal, first, direction, level)
        return None

    def detect_all(self, series: Iterable[Series], split_at: float) -> list[Finding]:
        """Findings for every abnormal series, earliest first."""
        found = [f for s in series if (f := self.detect(s, split_at)) is not None]
        return sorted(found, key=lambda f: (f.start, -f.confidence))

    def _finding(
        self,
        series: Series,
        scan: Series,
        z: FloatArray,
        abnormal: np.ndarray,
        first: int,
        direction: Direction,
        level: float,
    ) -> Finding:
        hits = np.flatnonzero(abnormal[first:]) + first
        observed = float(np.median(scan.values[hits]))
        persistence = hits.size / (scan.values.size - first)
        strength = float(np.median(np.abs(z[hits])))
        confidence = persistence * (1.0 - math.exp(-strength / self.threshold))
        magnitude = min(abs(observed) / max(abs(level), 1e-9), 1e6)
        return Finding(
            metric=series.metric,
            labels=dict(series.labels),
            start=float(scan.timestamps[first]),
            end=float(scan.timestamps[hits[-1]]),
            direction=direction,
            baseline=level,
            observed=observed,
            magnitude=magnitude,
            confidence=round(confidence, 4),
            detector=self.name,
            details={"median_abs_z": strength, "persistence": persistence},
        )


def _first_run(mask: np.ndarray, length: int) -> int | None:
    """Index where the first run of ``length`` consecutive True values starts."""
    run = 0
    for i, flag in enumerate(mask):
        run = run + 1 if flag else 0
        if run == length:
            return i - length + 1
    return None
