"""Discords: how far the latest ``length`` points are from the nearest pattern seen before.

The subsequence ending at each point is compared (Euclidean distance, levels kept) with the
remembered subsequences that do not overlap it; a shape or level never seen before is far from
all of them, while a spike that recurs every day has a close match. The statistic is the distance
to the nearest match (with ``neighbours`` k > 1, the mean distance to the k nearest: the
non-conformity of KNN-CAD, so a pattern must have recurred k times to be normal; ``centred``
compares shapes only, each subsequence less its own mean, so a new level or a trend is not a new
pattern). Each update is one matrix-vector product over at most ``history`` rows (every
``stride``-th subsequence is remembered, so they reach ``history x stride`` points back).
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

    def __init__(
        self,
        length: int = 32,
        history: int = 2000,
        stride: int = 2,
        neighbours: int = 1,
        centred: bool = False,
    ) -> None:
        if length < 2 or history < 1 or stride < 1 or neighbours < 1:
            raise ValueError(
                "discord needs length >= 2, history >= 1, stride >= 1 and neighbours >= 1"
            )
        self.length = length
        self.history = history
        self.stride = stride  # remember every stride-th subsequence: history x stride points back
        self.neighbours = neighbours  # mean distance to this many nearest (KNN-CAD); 1: discord
        self.centred = centred  # each subsequence less its own mean: shapes only
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
        if self.centred:
            query = query - query.mean()
        distance = NO_EVIDENCE
        if self._count:
            rows = min(self._count, self.history)
            with np.errstate(over="ignore", invalid="ignore"):
                squared = self._norms[:rows] + query @ query - 2.0 * (self._bank[:rows] @ query)
                if self.neighbours == 1:
                    nearest = math.sqrt(max(float(np.min(squared)), 0.0))
                else:
                    nearest = float(np.mean(nearest_roots(squared[None, :], self.neighbours)))
            distance = nearest if math.isfinite(nearest) else NO_EVIDENCE
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
        if self.centred:
            windows = windows - windows.mean(axis=1, keepdims=True)
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
            apart = np.where(overlaps, np.inf, squared)
            if self.neighbours == 1:
                nearest = np.sqrt(np.maximum(np.min(apart, axis=1), 0.0))
            else:
                nearest = nearest_roots(apart, self.neighbours).mean(axis=1)
            finite = np.isfinite(nearest)
            stats[ends[lo : lo + 1024][finite]] = nearest[finite]
        return stats[:split], stats[split:]

    def _remember(self, subsequence: np.ndarray) -> None:
        self._bank[self._next] = subsequence
        with np.errstate(over="ignore"):
            self._norms[self._next] = subsequence @ subsequence
        self._next = (self._next + 1) % self.history
        self._count += 1


def nearest_roots(squared: np.ndarray, k: int) -> np.ndarray:
    """Per row, the square roots of the ``k`` smallest squared distances (all when fewer)."""
    k = min(k, squared.shape[1])
    smallest = np.partition(squared, k - 1, axis=1)[:, :k]
    return np.sqrt(np.maximum(smallest, 0.0))


def conformal_knn(
    length: int = 16, neighbours: int = 5, centred: float = 0, history: int = 2000
) -> Discord:
    """KNN-CAD's non-conformity as a member: the mean distance of the last ``length`` points to
    their ``neighbours`` nearest earlier, non-overlapping windows (every window remembered); the
    calibrator's rank against earlier non-conformities is the conformal p-value."""
    knn = Discord(int(length), int(history), 1, int(neighbours), bool(centred))
    knn.name = "knn"
    return knn
