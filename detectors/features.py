"""Where a model's live input (and output) distributions come from: histograms per feature over a
time range, the shape a serving process exports them in (a Prometheus histogram per feature,
``model_input_feature_bucket{feature="basket_value", le="..."}``, and ``model_prediction_bucket``
for its outputs) and the shape a training profile is logged in, so the two compare bin by bin.

The model-aware investigation compares these with the serving version's training profile (PSI and
KS per feature); the simulated shop and Prometheus implement the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from detectors.sources import TimeLeft

__all__ = ["FeatureSource", "FeatureWindow", "Histogram"]


@dataclass(frozen=True)
class Histogram:
    """Counts over bins with the given edges (``len(edges) == len(counts) + 1``)."""

    edges: tuple[float, ...]
    counts: tuple[float, ...]

    @property
    def total(self) -> float:
        return float(sum(self.counts))


@dataclass(frozen=True)
class FeatureWindow:
    """One service's live distributions over a window: per input feature, and of its outputs
    (empty when the service exports none)."""

    features: dict[str, Histogram] = field(default_factory=dict)
    predictions: Histogram | None = None


class FeatureSource(Protocol):
    """Live feature histograms for one service over a time range (Unix seconds, end exclusive)."""

    def feature_histograms(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> FeatureWindow: ...
