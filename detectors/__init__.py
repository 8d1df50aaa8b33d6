"""Statistical detectors over metric series: what is abnormal, since when, how much, which label
values explain it, what limit is about to be crossed, and whether a model's inputs drifted.

Pure numpy/scipy/scikit-learn code over plain data; metric sources (Prometheus, in-memory) sit
behind a small protocol. ``detectors.evaluation`` scores the ensemble on the Numenta Anomaly
Benchmark (each package's evaluation lives in its ``evaluation`` subpackage).
"""

from detectors.analysis import FindingRules, detect_anomalies
from detectors.drift import DriftRules, drift_finding, histogram_psi, psi
from detectors.ensemble import (
    DEFAULT_ENSEMBLE,
    DETECTORS,
    EnsembleConfig,
    Member,
    StreamingEnsemble,
    score_series,
)
from detectors.errors import (
    DetectorConfigError,
    DetectorError,
    MetricSourceError,
    NabCorpusError,
    PartialMetricsError,
)
from detectors.features import FeatureSource, FeatureWindow, Histogram
from detectors.findings import Contribution, Direction, Finding, FindingKind, Forecast
from detectors.forecast import ForecastRules, forecast_finding, time_to_threshold
from detectors.histogram_drift import FeatureDrift, HistogramError, feature_drift
from detectors.prometheus import PrometheusMetricSource, choose_step
from detectors.prometheus_features import PrometheusFeatureSource
from detectors.robust import robust_zscore
from detectors.series import Series
from detectors.sources import InMemoryMetricSource, MetricSource, TimeLeft
from detectors.suite import Analysis, DetectorSuite

__all__ = [
    "DEFAULT_ENSEMBLE",
    "DETECTORS",
    "Analysis",
    "Contribution",
    "DetectorConfigError",
    "DetectorError",
    "DetectorSuite",
    "Direction",
    "DriftRules",
    "EnsembleConfig",
    "FeatureDrift",
    "FeatureSource",
    "FeatureWindow",
    "Finding",
    "FindingKind",
    "FindingRules",
    "Forecast",
    "ForecastRules",
    "Histogram",
    "HistogramError",
    "InMemoryMetricSource",
    "Member",
    "MetricSource",
    "MetricSourceError",
    "NabCorpusError",
    "PartialMetricsError",
    "PrometheusFeatureSource",
    "PrometheusMetricSource",
    "Series",
    "StreamingEnsemble",
    "TimeLeft",
    "choose_step",
    "detect_anomalies",
    "drift_finding",
    "feature_drift",
    "forecast_finding",
    "histogram_psi",
    "psi",
    "robust_zscore",
    "score_series",
    "time_to_threshold",
]
