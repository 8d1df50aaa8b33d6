"""Statistical detectors over metric series: what is abnormal, since when, and how much.

Pure numpy code over plain data; metric sources (Prometheus, in-memory) sit behind a small protocol.
"""

from detectors.findings import Direction, Finding
from detectors.robust import RobustBaselineDetector, robust_zscore
from detectors.series import Series
from detectors.sources import InMemoryMetricSource, MetricSource, MetricSourceError

__all__ = [
    "Direction",
    "Finding",
    "InMemoryMetricSource",
    "MetricSource",
    "MetricSourceError",
    "RobustBaselineDetector",
    "Series",
    "robust_zscore",
]
