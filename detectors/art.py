"""Adaptive resonance over downsampled windows (ARTime's idea, implemented here from it): a
window of the series is normal when it falls inside a category learnt from earlier windows, and
an anomaly when it would have to found a new one.

Each point's window is the last ``length`` means of ``block`` points (the series at a coarser
scale). Categories are fuzzy ART's with complement coding, whose geometry is a hyperrectangle per
category (a lower and an upper bound per dimension); fast learning grows the chosen box just
enough to hold the window. The vigilance, which bounds how wide a box may grow, adapts to each
series: a box's mean width may not exceed ``width`` x the series' own jitter (the median change
between consecutive block means over the last ``history`` windows), so a noisy series gets wide
categories and a smooth one tight ones, in the series' own units with no normalisation. The
statistic is the mean distance per dimension from the window to the nearest box: 0 inside a
category, positive for a window no category holds. Windows are learnt only once they no longer
overlap the present (as ``discord`` does), so a slow change cannot creep from box to box
unjudged, and only every ``block``-th one (the windows a downsampled series would have). At most
``categories`` boxes are kept; when full, the least recently used is replaced.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE, judge_by_streaming
from detectors.series import FloatArray


class AdaptiveResonance:
    name = "art"
    sides = Sides.UPPER

    def __init__(
        self,
        block: int = 4,
        length: int = 8,
        width: float = 2.0,
        categories: int = 128,
        history: int = 2000,
    ) -> None:
        if block < 1 or length < 1 or not width > 0 or categories < 1 or history < 2:
            raise ValueError(
                "art needs block >= 1, length >= 1, width > 0, categories >= 1, history >= 2"
            )
        self.block, self.length, self.width = int(block), int(length), float(width)
        self.span = self.block * self.length
        self._recent: deque[float] = deque(maxlen=self.span)
        self._pending: deque[FloatArray] = deque()
        self._jitter: deque[float] = deque(maxlen=int(history))
        capacity = int(categories)
        self._low = np.zeros((capacity, self.length))
        self._high = np.zeros((capacity, self.length))
        self._used = np.zeros(capacity)  # when each box last took a window (LRU replacement)
        self._count = 0
        self._clock = 0.0
        self._seen = 0

    def update(self, t: float, x: float, learn: bool = True) -> float:
        recent = [*self._recent, x][-self.span :]
        if learn:
            self._recent.append(x)
        if len(recent) < self.span:
            return NO_EVIDENCE
        window = np.asarray(recent).reshape(self.length, self.block).mean(axis=1)
        statistic = NO_EVIDENCE
        if self._count:
            distance = self._distances(window)
            best = float(distance.min())
            statistic = best if np.isfinite(best) else NO_EVIDENCE
        if learn:
            self._seen += 1
            if self._seen % self.block == 0:
                self._pending.append(window)
            if len(self._pending) > self.length:  # no longer overlaps the present
                self._learn(self._pending.popleft())
        return statistic

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        return judge_by_streaming(self, t, x, split)

    def _distances(self, window: FloatArray) -> FloatArray:
        n = self._count
        with np.errstate(over="ignore", invalid="ignore"):
            below = np.maximum(self._low[:n] - window, 0.0)
            above = np.maximum(window - self._high[:n], 0.0)
            return np.asarray((below + above).mean(axis=1))

    def _learn(self, window: FloatArray) -> None:
        if not np.isfinite(window).all():
            return
        steps = np.abs(np.diff(window))
        self._jitter.extend(steps.tolist())
        self._clock += 1.0
        limit = self.width * float(np.median(self._jitter)) if self._jitter else 0.0
        n = self._count
        if n:
            low = np.minimum(self._low[:n], window)
            high = np.maximum(self._high[:n], window)
            grown = (high - low).mean(axis=1)  # mean width each box would have with the window
            fits = np.flatnonzero(grown <= limit)
            if fits.size:  # resonance: the box that needs the least growth takes the window
                growth = grown[fits] - (self._high[fits] - self._low[fits]).mean(axis=1)
                j = int(fits[np.argmin(growth)])
                self._low[j], self._high[j], self._used[j] = low[j], high[j], self._clock
                return
        j = n if n < self._low.shape[0] else int(np.argmin(self._used))
        self._low[j], self._high[j], self._used[j] = window, window, self._clock
        self._count = max(n, j + 1)
