"""Discords: how far the latest ``length`` points are from the nearest pattern seen before.

The subsequence ending at each point is compared (Euclidean distance, levels kept) with the
remembered subsequences that do not overlap it; a shape or level never seen before is far from
all of them, while a spike that recurs every day has a close match. The statistic is the distance
to the nearest match. Each update is one matrix-vector product over at most ``history`` rows
(every ``stride``-th subsequence is remembered, so they reach ``history x stride`` points back).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE
from detectors.series import FloatArray


class Discord:
    name = "discord"
    sides = Sides.UPPER

    def __init__(self, length: int = 32, history: int = 2000, stride: int = 2) -> None:
        if length < 2 or history < 1 or stride < 1:
            raise ValueError("discord needs length >= 2, history >= 1 and stride >= 1")
        self.length = length
        self.history = history
        self.stride = stride  # remember every stride-th subsequence: history x stride points back
        self._recent: deque[float] = deque(maxlen=length)
        self._pending: deque[np.ndarray] = deque()  # inside the exclusion zone of the present
        self._bank = np.zeros((history, length))
        self._norms = np.zeros(history)
        self._count = 0
        self._next = 0
        self._offered = 0
        self._offset: float | None = None  # values are shifted by the first one, for precision

    def update(self, t: float, x: float, learn: bool = True) -> float:
        if self._offset is None:
            self._offset = x
        self._recent.append(x - self._offset)
        if len(self._recent) < self.length:
            return NO_EVIDENCE
        query = np.fromiter(self._recent, dtype=np.float64, count=self.length)
        distance = NO_EVIDENCE
        if self._count:
            rows = min(self._count, self.history)
            with np.errstate(over="ignore", invalid="ignore"):
                squared = self._norms[:rows] + query @ query - 2.0 * (self._bank[:rows] @ query)
                nearest = float(np.min(squared))
            distance = math.sqrt(max(nearest, 0.0)) if math.isfinite(nearest) else NO_EVIDENCE
        if learn:
            self._pending.append(query)
            if len(self._pending) > self.length:  # no longer overlaps the present
                oldest = self._pending.popleft()
                if self._offered % self.stride == 0:
                    self._remember(oldest)
                self._offered += 1
        return distance

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        """Every subsequence against the baseline's remembered subsequences (the last ``history``,
        every ``stride``-th), skipping overlapping ones; computed in blocks of rows."""
        m = self.length
        stats = np.full(x.size, np.nan)
        if split < 2 * m:
            return stats[:split], stats[split:]
        windows = sliding_window_view(x - float(np.median(x[:split])), m)
        ends = np.arange(windows.shape[0]) + m - 1  # index of the last point of each window
        kept = np.arange(split - m, -1, -self.stride)[: self.history][::-1]
        bank, bank_ends = windows[kept], ends[kept]
        bank_norms = np.einsum("ij,ij->i", bank, bank)
        for lo in range(0, windows.shape[0], 1024):
            rows = windows[lo : lo + 1024]
            with np.errstate(over="ignore", invalid="ignore"):
                norms = np.einsum("ij,ij->i", rows, rows)
                squared = norms[:, None] + bank_norms[None, :] - 2.0 * (rows @ bank.T)
            overlaps = np.abs(ends[lo : lo + 1024, None] - bank_ends[None, :]) < m
            nearest = np.min(np.where(overlaps, np.inf, squared), axis=1)
            finite = np.isfinite(nearest)
            stats[ends[lo : lo + 1024][finite]] = np.sqrt(np.maximum(nearest[finite], 0.0))
        return stats[:split], stats[split:]

    def _remember(self, subsequence: np.ndarray) -> None:
        self._bank[self._next] = subsequence
        with np.errstate(over="ignore"):
            self._norms[self._next] = subsequence @ subsequence
        self._next = (self._next + 1) % self.history
        self._count += 1
