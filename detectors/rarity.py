"""Value rarity: how unusual the value itself is compared with everything seen recently.

The statistic is the value; its calibrator does the work (empirical rank inside the observed
range, an exponential tail beyond it). Spikes, new levels and values never seen before score high;
a value that merely sets a new record by a hair does not.
"""

from __future__ import annotations

from detectors.calibration import Sides
from detectors.series import FloatArray


class ValueRarity:
    name = "rarity"
    sides = Sides.BOTH

    def update(self, t: float, x: float, learn: bool = True) -> float:
        return x

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        return x[:split], x[split:]
