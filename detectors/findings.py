"""Findings: the detectors' answer to "what is abnormal, since when, how much, and why"."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from detectors.series import series_key


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class FindingKind(StrEnum):
    ANOMALY = "anomaly"  # the metric left its normal band
    FORECAST = "forecast"  # the metric is heading for a limit
    DRIFT = "drift"  # the distribution of a model input changed


@dataclass(frozen=True)
class Contribution:
    """One label value's share of a finding's deviation (shares of a finding sum to 1)."""

    labels: dict[str, str]  # the labels that tell this part from the whole, e.g. {"pod": "a-1"}
    share: float
    baseline: float
    observed: float


@dataclass(frozen=True)
class Forecast:
    """When the metric crosses ``threshold`` at its current trend, in seconds from ``start``;
    ``earliest``/``latest`` bound it at the trend's confidence interval (latest may be inf)."""

    threshold: float
    eta: float
    earliest: float
    latest: float
    slope: float  # units per second

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.latest)


@dataclass(frozen=True)
class Finding:
    """One abnormal metric series.

    ``magnitude`` is the ratio of the abnormal level to the baseline level (2.0 = doubled,
    0.5 = halved); ``confidence`` in [0, 1] grows with how surprising and how persistent the
    change is. ``details`` holds the evidence (per-detector surprises, drift statistics).
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
    kind: FindingKind = FindingKind.ANOMALY
    attribution: tuple[Contribution, ...] = ()
    forecast: Forecast | None = None

    @property
    def key(self) -> str:
        return series_key(self.metric, self.labels)


def ratio(observed: float, baseline: float) -> float:
    """``observed / baseline`` as a magnitude: finite, non-negative, capped for a zero baseline."""
    return min(abs(observed) / max(abs(baseline), 1e-9), 1e6)
