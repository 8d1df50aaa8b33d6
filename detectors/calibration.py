"""Turning a detector's raw statistic into a surprise that means the same on every series.

A statistic (a value, a residual, a distance) is compared with its own history: inside the
observed range its p-value is the empirical rank; beyond the most extreme ``tail`` fraction the
tail is extrapolated with an exponential fitted to the excesses (peaks over threshold), so a value
far beyond anything seen gets a tiny p-value rather than just "the largest so far". The
extrapolation never claims a value rarer than the history shows: a p-value is at least the
observed frequency of values as extreme (a daily spike of the usual height is not made rare by a
tail fitted mostly to smaller excesses). The surprise is ``-log10(p)``: 2 means 1 in 100, 5 means
1 in 100,000, whatever the units or noise of the series.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from enum import StrEnum

import numpy as np

from detectors.series import FloatArray

LOG10 = math.log(10.0)


class Sides(StrEnum):
    BOTH = "both"  # unusually high or low values are surprising
    UPPER = "upper"  # only unusually high values (distances, CUSUM statistics)


def _tail_scale(excess_mean: float, edge: float) -> float:
    # A flat tail (all extremes equal) makes any further excess maximally surprising; the floor
    # keeps the division finite and proportional to the magnitude of the data.
    return max(excess_mean, 1e-12 * max(abs(edge), 1.0), 1e-300)


class TailModel:
    """A frozen reference sample: surprise of new values, vectorised (the alert path)."""

    def __init__(self, reference: FloatArray, sides: Sides, tail: float, min_tail: int) -> None:
        ref = np.sort(np.asarray(reference, dtype=np.float64)[np.isfinite(reference)])
        self.size = int(ref.size)
        self.sides = sides
        self._ref = ref
        if self.size == 0:
            return
        k = min(self.size, max(min_tail, int(tail * self.size)))
        self._k = k
        self._median = float(ref[self.size // 2])
        self._hi = float(ref[-k])
        self._hi_scale = _tail_scale(float(np.mean(ref[-k:])) - self._hi, self._hi)
        self._lo = float(ref[k - 1])
        self._lo_scale = _tail_scale(self._lo - float(np.mean(ref[:k])), self._lo)

    def surprise(self, values: FloatArray) -> FloatArray:
        """-log10 p-value per value; NaN for non-finite values or an empty reference."""
        v = np.asarray(values, dtype=np.float64)
        if self.size == 0:
            return np.full(v.shape, np.nan)
        m, k, ref = self.size, self._k, self._ref
        upper = v >= self._median if self.sides is Sides.BOTH else np.ones(v.shape, dtype=bool)
        count_hi = m - np.searchsorted(ref, v, side="left")
        count_lo = np.searchsorted(ref, v, side="right")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            log_base = math.log10(k / (m + 1))
            # the model's p, but never below the observed frequency (log10(0) = -inf: no floor)
            beyond_hi = np.maximum(
                log_base - (v - self._hi) / self._hi_scale / LOG10, np.log10(count_hi / (m + 1))
            )
            beyond_lo = np.maximum(
                log_base - (self._lo - v) / self._lo_scale / LOG10, np.log10(count_lo / (m + 1))
            )
            log_p = np.where(
                upper,
                np.where(v > self._hi, beyond_hi, np.log10((count_hi + 1) / (m + 1))),
                np.where(v < self._lo, beyond_lo, np.log10((count_lo + 1) / (m + 1))),
            )
        out = -log_p
        return np.where(np.isfinite(v), np.maximum(out, 0.0), np.nan)


class TailCalibrator:
    """The streaming form: each value is judged against the last ``history`` values, then learnt.

    Memory is O(history); each update is a binary search and an insertion into a sorted list. The
    tail edges and scales are refreshed every ``refresh`` updates (they move slowly).
    """

    def __init__(
        self,
        sides: Sides = Sides.BOTH,
        history: int = 8640,
        tail: float = 0.05,
        min_history: int = 30,
        min_tail: int = 8,
        refresh: int = 8,
    ) -> None:
        self.sides = sides
        self.history = history
        self.tail = tail
        self.min_history = min_history
        self.min_tail = min_tail
        self.refresh = refresh
        self._window: deque[float] = deque()
        self._sorted: list[float] = []
        self._since_refresh = refresh
        self._edges = (0.0, 0.0, 1.0, 0.0, 1.0, 1)  # median, hi, hi_scale, lo, lo_scale, k

    def __len__(self) -> int:
        return len(self._sorted)

    def surprise(self, value: float) -> float:
        """-log10 p of ``value`` against the history; 0 while the history is too short."""
        m = len(self._sorted)
        if m < self.min_history or not math.isfinite(value):
            return 0.0
        if self._since_refresh >= self.refresh:
            self._refresh_edges()
        median, hi, hi_scale, lo, lo_scale, k = self._edges
        srt = self._sorted
        if self.sides is Sides.UPPER or value >= median:
            count = m - bisect.bisect_left(srt, value)  # history values at least as high
            beyond = value > hi
            excess = (value - hi) / hi_scale
        else:
            count = bisect.bisect_right(srt, value)  # history values at least as low
            beyond = value < lo
            excess = (lo - value) / lo_scale
        if not beyond:
            log_p = math.log10((count + 1) / (m + 1))
        else:
            log_p = math.log10(k / (m + 1)) - excess / LOG10
            if count:  # never rarer than the history shows
                log_p = max(log_p, math.log10(count / (m + 1)))
        return max(-log_p, 0.0)

    def learn(self, value: float) -> None:
        if not math.isfinite(value):
            return
        self._window.append(value)
        bisect.insort(self._sorted, value)
        if len(self._window) > self.history:
            old = self._window.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._since_refresh += 1

    def update(self, value: float) -> float:
        surprise = self.surprise(value)
        self.learn(value)
        return surprise

    def _refresh_edges(self) -> None:
        srt = self._sorted
        m = len(srt)
        k = min(m, max(self.min_tail, int(self.tail * m)))
        hi, lo = srt[-k], srt[k - 1]
        hi_scale = _tail_scale(math.fsum(srt[-k:]) / k - hi, hi)
        lo_scale = _tail_scale(lo - math.fsum(srt[:k]) / k, lo)
        self._edges = (srt[m // 2], hi, hi_scale, lo, lo_scale, k)
        self._since_refresh = 0


def surprise_score(surprise: float | FloatArray) -> FloatArray:
    """Map a surprise (-log10 p, >= 0) to an anomaly score in [0, 1): 1 in 100,000 scores 0.5."""
    s = np.maximum(np.nan_to_num(np.asarray(surprise, dtype=np.float64)), 0.0)
    return np.asarray(s / (s + HALF_SCORE_SURPRISE), dtype=np.float64)


HALF_SCORE_SURPRISE = 5.0
