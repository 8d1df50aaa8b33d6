"""Everything the detectors say about one service's metrics around an alert: anomalies (with
label attribution), forecasts of limits about to be crossed, and drift of model inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from detectors.analysis import FindingRules, detect_anomalies
from detectors.drift import DriftRules, drift_finding
from detectors.ensemble import DEFAULT_ENSEMBLE, EnsembleConfig
from detectors.findings import Finding
from detectors.forecast import ForecastRules, forecast_finding
from detectors.series import Series


@dataclass(frozen=True)
class Analysis:
    anomalies: list[Finding]
    forecasts: list[Finding]
    drift: list[Finding]


@dataclass(frozen=True)
class DetectorSuite:
    ensemble: EnsembleConfig = DEFAULT_ENSEMBLE
    rules: FindingRules = field(default_factory=FindingRules)
    limits: Mapping[str, float] = field(default_factory=dict)  # metric -> limit to forecast
    forecast: ForecastRules = field(default_factory=ForecastRules)
    drift_features: frozenset[str] = frozenset()  # metrics that are a model's inputs
    drift: DriftRules = field(default_factory=DriftRules)

    def analyse(self, series: Sequence[Series], split: float) -> Analysis:
        """Baseline before ``split``, suspect window from it on."""
        forecasts = [
            f
            for s in series
            if s.metric in self.limits and len(s)
            if (f := forecast_finding(s, self.limits[s.metric], self.forecast)) is not None
        ]
        drift = [
            f
            for s in series
            if s.metric in self.drift_features
            if (f := drift_finding(s, split, self.drift)) is not None
        ]
        return Analysis(
            detect_anomalies(series, split, self.ensemble, self.rules), forecasts, drift
        )
