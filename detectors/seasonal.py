"""Seasonal baseline: is this value normal for this time of day?

Each point is compared with what was observed around the same phase (within ``tolerance`` of the
period) in each of the previous ``periods_back`` periods; the statistic is the signed gap to the
closest such value, so a daily spike that recurs at the same hour, or a value that was seen at
this hour on any recent day, is explained. Without a full period of history there is no evidence.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE, judge_by_streaming
from detectors.series import FloatArray

DAY = 86400.0


class SeasonalGap:
    name = "seasonal"
    sides = Sides.BOTH

    def __init__(self, period: float = DAY, periods_back: int = 5, tolerance: float = 0.02) -> None:
        if period <= 0 or periods_back < 1 or not 0 <= tolerance < 0.5:
            raise ValueError("seasonal needs period > 0, periods_back >= 1, 0 <= tolerance < 0.5")
        self.period = period
        self.periods_back = periods_back
        self.width = tolerance * period
        self._times: list[float] = []
        self._values: list[float] = []
        self._start = 0  # entries before it are older than the longest look-back

    def update(self, t: float, x: float, learn: bool = True) -> float:
        best = math.inf
        times, values = self._times, self._values
        for k in range(1, self.periods_back + 1):
            target = t - k * self.period
            lo = bisect.bisect_left(times, target - self.width, self._start)
            hi = bisect.bisect_right(times, target + self.width, lo)
            for v in values[lo:hi]:
                if abs(x - v) < abs(best):
                    best = x - v
        if learn and (not times or t > times[-1]):
            times.append(t)
            values.append(x)
            self._forget(t)
        return best if math.isfinite(best) else NO_EVIDENCE

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        if t.size == 0 or t[-1] - t[0] < self.period - self.width:  # no point has a past period
            nothing = np.full(t.shape, np.nan)
            return nothing[:split], nothing[split:]
        return judge_by_streaming(self, t, x, split)

    def _forget(self, now: float) -> None:
        horizon = now - self.periods_back * self.period - self.width
        while self._start < len(self._times) and self._times[self._start] < horizon:
            self._start += 1
        if self._start > 1024 and self._start > len(self._times) // 2:
            del self._times[: self._start]
            del self._values[: self._start]
            self._start = 0
