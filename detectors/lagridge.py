"""Prediction error of a ridge regression on lags: how far the latest point is from what the
series' own recent dynamics predicted (HTM's idea of judging prediction errors, with a model
anyone can read).

The model predicts the next change from the last ``lags`` changes (scikit-learn's ``Ridge``, on
changes scaled by their median absolute size so the penalty means the same on every series); it
is refitted every ``refit`` points on the last ``history`` points. The statistic is the signed
prediction error in the series' units; the calibrator makes it a surprise.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE, judge_by_streaming
from detectors.series import FloatArray


class LagRidge:
    name = "ridge"
    sides = Sides.BOTH

    def __init__(
        self, lags: int = 8, history: int = 1000, refit: int = 50, alpha: float = 1.0
    ) -> None:
        if lags < 1 or history < 4 * lags or refit < 1 or alpha < 0:
            raise ValueError("ridge needs lags >= 1, history >= 4 x lags, refit >= 1, alpha >= 0")
        self.lags = int(lags)
        self.refit = int(refit)
        self.alpha = alpha
        self._values: deque[float] = deque(maxlen=int(history) + 1)
        self._coef: FloatArray | None = None
        self._intercept = 0.0
        self._scale = 1.0
        self._since_fit = 0

    def update(self, t: float, x: float, learn: bool = True) -> float:
        statistic = NO_EVIDENCE
        if self._coef is not None:
            recent = np.fromiter(self._values, dtype=np.float64)[-self.lags - 1 :]
            changes = np.diff(recent) / self._scale
            predicted = recent[-1] + self._scale * (
                float(changes[::-1] @ self._coef) + self._intercept
            )
            with np.errstate(over="ignore", invalid="ignore"):
                error = x - predicted
            statistic = error if math.isfinite(error) else NO_EVIDENCE
        if learn:
            self._values.append(x)
            self._since_fit += 1
            if self._since_fit >= self.refit and len(self._values) > 4 * self.lags:
                self._fit()
        return statistic

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        return judge_by_streaming(self, t, x, split)

    def _fit(self) -> None:
        self._since_fit = 0
        changes = np.diff(np.fromiter(self._values, dtype=np.float64))
        scale = float(np.median(np.abs(changes - np.median(changes))))
        if not scale > 0 or not np.isfinite(changes).all():
            scale = float(np.mean(np.abs(changes))) if np.isfinite(changes).all() else 0.0
        if not scale > 0:
            self._coef, self._intercept, self._scale = np.zeros(self.lags), 0.0, 1.0
            return
        z = changes / scale
        rows = sliding_window_view(z[:-1], self.lags)[:, ::-1]  # most recent change first
        # Imported here: reading the configuration must not pay for scipy.stats.
        from sklearn.linear_model import Ridge

        model = Ridge(alpha=self.alpha).fit(rows, z[self.lags :])
        self._coef = np.asarray(model.coef_, dtype=np.float64)
        self._intercept = float(model.intercept_)
        self._scale = scale
