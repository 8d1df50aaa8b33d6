"""Level-adjusted rarity: how unusual the value is once the series' recent level is taken out.

The statistic is the value less the median of the previous ``window`` values (the recent past
only, so the present never sets its own level); its calibrator ranks it against the earlier
residuals. A spike or the first points of a new level stand out as rarity's do, but a series that
has moved to a new level or is trending is judged against where it is now rather than everything
it has been, so the new level stops being rare once the window has filled with it.
"""

from __future__ import annotations

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE, judge_by_streaming
from detectors.robust import RollingMedian
from detectors.series import FloatArray


class LevelRarity:
    name = "level_rarity"
    sides = Sides.BOTH

    def __init__(self, window: int = 64, min_points: int = 8) -> None:
        if window < 1 or min_points < 1:
            raise ValueError("level_rarity needs window >= 1 and min_points >= 1")
        self.min_points = int(min_points)
        self._level = RollingMedian(int(window))

    def update(self, t: float, x: float, learn: bool = True) -> float:
        residual = NO_EVIDENCE
        if len(self._level) >= self.min_points:
            residual = x - self._level.median()
        if learn:
            self._level.add(x)
        return residual

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        return judge_by_streaming(self, t, x, split)
