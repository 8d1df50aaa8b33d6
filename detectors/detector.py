"""The common interface of the univariate detectors.

A detector turns each point into a raw statistic (a residual, a z-score, a distance) from the
model it has learnt so far; ``learn=False`` judges a point without adapting to it, which is how an
alert's suspect window is compared with its baseline. Statistics are made comparable across
series by a ``TailCalibrator`` (see ``detectors.calibration``), and scored in [0, 1] by the
ensemble. Every update costs O(1) or O(window) time and memory.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from detectors.calibration import Sides
from detectors.series import FloatArray

NO_EVIDENCE = float("nan")  # what a detector returns while it has not learnt enough


class PointDetector(Protocol):
    name: str
    sides: Sides  # which values of the statistic are surprising

    def update(self, t: float, x: float, learn: bool = True) -> float:
        """The statistic of ``x`` observed at time ``t`` (seconds), NaN when there is no evidence;
        then, if ``learn``, fold the point into the model."""
        ...

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        """Learn from the points before index ``split`` and judge them (in sample), then judge the
        points from ``split`` on without learning; vectorised where the detector allows."""
        ...


def judge_by_streaming(
    detector: PointDetector, t: FloatArray, x: FloatArray, split: int
) -> tuple[FloatArray, FloatArray]:
    """``judge`` for a detector without a vectorised form: stream, learning only the baseline."""
    pairs = enumerate(zip(t.tolist(), x.tolist(), strict=True))
    stats = np.array([detector.update(ti, xi, learn=i < split) for i, (ti, xi) in pairs])
    return stats[:split], stats[split:]
