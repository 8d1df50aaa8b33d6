"""Robust z-scores: distance from the median in units of the MAD, which ignore the outliers they
are looking for, so one spike in the reference does not hide the next one."""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable

import numpy as np

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE
from detectors.series import FloatArray

# MAD of a normal distribution is 0.6745 sigma; scaling by 1.4826 makes it a sigma estimate.
MAD_TO_SIGMA = 1.4826


def robust_scale(median: float, mad: float) -> float:
    """MAD as a sigma estimate, floored so that a flat reference does not divide by zero: any
    movement off a constant line then scores very high."""
    return max(mad * MAD_TO_SIGMA, 1e-9 * max(abs(median), 1.0))


def robust_zscore(values: FloatArray, baseline: FloatArray) -> FloatArray:
    """Z-scores of ``values`` against the median and MAD of ``baseline`` (zeros if it is empty)."""
    if baseline.size == 0:
        return np.zeros_like(values)
    median = float(np.median(baseline))
    mad = float(np.median(np.abs(baseline - median)))
    return (values - median) / robust_scale(median, mad)


class RollingMedian:
    """Median and MAD of the last ``window`` values in O(log window) per query (sorted list)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._values: deque[float] = deque()
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, x: float) -> None:
        self._values.append(x)
        bisect.insort(self._sorted, x)
        if len(self._values) > self.window:
            old = self._values.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def median(self) -> float:
        srt = self._sorted
        m = len(srt)
        return (srt[(m - 1) // 2] + srt[m // 2]) / 2

    def mad(self) -> float:
        """Median absolute deviation (as numpy computes it), without sorting the deviations: the
        deviations below and above the median are two sorted sequences, and the middle ones of
        their union are found by binary search."""
        srt = self._sorted
        m = len(srt)
        med = self.median()
        half = m // 2  # values srt[:half] lie below the median, srt[half:] at or above it

        def below(i: int) -> float:  # i-th smallest deviation of the lower half
            return med - srt[half - 1 - i]

        def above(j: int) -> float:  # j-th smallest deviation of the upper half
            return srt[half + j] - med

        lower = _kth_smallest(below, half, above, m - half, (m - 1) // 2)
        upper = _kth_smallest(below, half, above, m - half, m // 2)
        return (lower + upper) / 2


def _kth_smallest(
    a: Callable[[int], float], len_a: int, b: Callable[[int], float], len_b: int, k: int
) -> float:
    """k-th smallest (0-based) of the union of two ascending sequences given by index functions."""
    lo, hi = max(0, k + 1 - len_b), min(k + 1, len_a)
    while lo < hi:
        i = (lo + hi) // 2
        if a(i) < b(k - i):  # taking i from a and k+1-i from b: a's next is still smaller
            lo = i + 1
        else:
            hi = i
    i, j = lo, k + 1 - lo
    return max(a(i - 1) if i > 0 else -math.inf, b(j - 1) if j > 0 else -math.inf)


class RollingRobustZ:
    """z-score of each point against the median and MAD of the previous ``window`` points."""

    name = "robust_z"
    sides = Sides.BOTH

    def __init__(self, window: int = 240, min_points: int = 10) -> None:
        self.min_points = min_points
        self._reference = RollingMedian(window)

    def update(self, t: float, x: float, learn: bool = True) -> float:
        z = NO_EVIDENCE
        if len(self._reference) >= self.min_points:
            median = self._reference.median()
            z = (x - median) / robust_scale(median, self._reference.mad())
        if learn:
            self._reference.add(x)
        return z

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        z = baseline_z(x, split, self.min_points)
        return z[:split], z[split:]


def baseline_z(x: FloatArray, split: int, min_points: int) -> FloatArray:
    """Robust z of every point against the points before ``split`` (NaN if they are too few)."""
    if split < min_points:
        return np.full(x.shape, np.nan)
    return robust_zscore(x, x[:split])
