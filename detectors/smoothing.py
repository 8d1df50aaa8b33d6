"""Holt's linear smoothing (EWMA of level and trend): the residual of each point against the
level-and-trend forecast from the points before it. Time-aware, so gaps and irregular sampling
extrapolate the trend over the real elapsed time."""

from __future__ import annotations

import math

import numpy as np

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE
from detectors.series import FloatArray


class HoltResidual:
    name = "holt"
    sides = Sides.BOTH

    def __init__(self, alpha: float = 0.1, beta: float = 0.01, min_points: int = 10) -> None:
        if not (0 < alpha <= 1 and 0 <= beta <= 1):
            raise ValueError("holt needs 0 < alpha <= 1 and 0 <= beta <= 1")
        self.alpha = alpha
        self.beta = beta
        self.min_points = min_points
        self._level = 0.0
        self._trend = 0.0  # per second
        self._last = -math.inf
        self._seen = 0

    def forecast(self, t: float) -> float:
        return self._level + self._trend * max(t - self._last, 0.0)

    def update(self, t: float, x: float, learn: bool = True) -> float:
        residual = x - self.forecast(t) if self._seen >= self.min_points else NO_EVIDENCE
        if learn:
            self._learn(t, x)
        return residual

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        """In-sample one-step residuals, then residuals against the trend extrapolated from the
        baseline's end (the expectation had nothing changed)."""
        pairs = zip(t[:split].tolist(), x[:split].tolist(), strict=True)
        baseline = np.array([self.update(ti, xi) for ti, xi in pairs], dtype=np.float64)
        if self._seen < self.min_points:
            return baseline, np.full(x.size - split, np.nan)
        forecast = self._level + self._trend * np.maximum(t[split:] - self._last, 0.0)
        return baseline, x[split:] - forecast

    def _learn(self, t: float, x: float) -> None:
        if self._seen == 0:
            self._level, self._last = x, t
        else:
            elapsed = t - self._last
            level = self.alpha * x + (1 - self.alpha) * self.forecast(t)
            if elapsed > 0:
                slope = (level - self._level) / elapsed
                self._trend = self.beta * slope + (1 - self.beta) * self._trend
                self._last = t
            self._level = level
        self._seen += 1
