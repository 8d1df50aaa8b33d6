"""CUSUM change-point detector: accumulates small, persistent deviations that no single point
reveals. Deviations are robust z-scores against a rolling median/MAD; the statistic is the larger
of the upward and downward cumulative sums, each reset at zero and drained by ``allowance``."""

from __future__ import annotations

import numpy as np

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE
from detectors.robust import RollingMedian, baseline_z, robust_scale
from detectors.series import FloatArray


class Cusum:
    name = "cusum"
    sides = Sides.UPPER

    def __init__(
        self, window: int = 240, allowance: float = 0.5, clip: float = 5.0, min_points: int = 10
    ) -> None:
        self.allowance = allowance
        self.clip = clip
        self.min_points = min_points
        self._reference = RollingMedian(window)
        self._up = 0.0
        self._down = 0.0

    def update(self, t: float, x: float, learn: bool = True) -> float:
        statistic = NO_EVIDENCE
        if len(self._reference) >= self.min_points:
            median = self._reference.median()
            z = (x - median) / robust_scale(median, self._reference.mad())
            z = max(-self.clip, min(self.clip, z))  # one spike must not look like a shift
            self._up = max(0.0, self._up + z - self.allowance)
            self._down = max(0.0, self._down - z - self.allowance)
            statistic = max(self._up, self._down)
        if learn:
            self._reference.add(x)
        return statistic

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        """CUSUM of robust z-scores against the whole baseline, run through baseline and window."""
        z = baseline_z(x, split, self.min_points)
        if not np.isfinite(z).all():
            return z[:split], z[split:]
        stats = np.empty(x.size)
        up = down = 0.0
        for i, zi in enumerate(np.clip(z, -self.clip, self.clip).tolist()):
            up = max(0.0, up + zi - self.allowance)
            down = max(0.0, down - zi - self.allowance)
            stats[i] = max(up, down)
        return stats[:split], stats[split:]
