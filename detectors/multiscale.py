"""A detector at a coarser time scale: the same statistic on the series' means over ``factor``
points (bursty series look calmer at a coarser scale; a level shift does not).

The inner detector learns only from complete blocks of ``factor`` points (the downsampled series)
and judges, at every point, the mean of the last ``factor`` points without learning it, so a
streaming user gets a coarse verdict at every step and the coarse model is the one a downsampled
series would build.
"""

from __future__ import annotations

from collections import deque

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE, PointDetector, judge_by_streaming
from detectors.discord import Discord
from detectors.rarity import ValueRarity
from detectors.series import FloatArray


class Downsampled:
    sides: Sides

    def __init__(self, inner: PointDetector, factor: int) -> None:
        if factor < 1:
            raise ValueError("a coarser scale needs factor >= 1")
        self.name = f"coarse_{inner.name}"
        self.sides = inner.sides
        self.inner = inner
        self.factor = factor
        self._recent: deque[float] = deque(maxlen=factor)
        self._learnt = 0

    def update(self, t: float, x: float, learn: bool = True) -> float:
        recent = [*self._recent, x][-self.factor :]
        block_ends = learn and (self._learnt + 1) % self.factor == 0
        if learn:
            self._recent.append(x)
            self._learnt += 1
        if len(recent) < self.factor:
            return NO_EVIDENCE
        return self.inner.update(t, sum(recent) / self.factor, learn=block_ends)

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        return judge_by_streaming(self, t, x, split)


def coarse_rarity(factor: int = 4) -> Downsampled:
    return Downsampled(ValueRarity(), int(factor))


def coarse_discord(factor: int = 4, length: int = 32, history: int = 2000) -> Downsampled:
    return Downsampled(Discord(int(length), int(history), stride=1), int(factor))
