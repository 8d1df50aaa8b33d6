"""Findings: the detectors' answer to "what is abnormal, since when, and how much"."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from detectors.series import series_key


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class Finding:
    """One abnormal metric series.

    ``magnitude`` is the ratio of the abnormal level to the baseline level (2.0 = doubled,
    0.5 = halved); ``confidence`` in [0, 1] grows with how far and how long the series left its
    normal band.
    """

    metric: str
    labels: dict[str, str]
    start: float
    end: float
    direction: Direction
    baseline: float
    observed: float
    magnitude: float
    confidence: float
    detector: str
    details: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return series_key(self.metric, self.labels)
