"""Drift of a model's input features: has the distribution of, say, request payload size moved
between a reference window and the current one?

Two standard measures: the Population Stability Index over the reference's deciles (< 0.1 stable,
0.1-0.25 moderate, > 0.25 a significant shift) and the two-sample Kolmogorov-Smirnov statistic
(the largest gap between the two empirical CDFs) with its p-value. Samples of a metric are
autocorrelated, so the p-value is optimistic; the PSI threshold is what decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.findings import Direction, Finding, FindingKind, ratio
from detectors.series import FloatArray, Series

EMPTY_BIN = 1e-4  # share given to an empty bin, so PSI stays finite


@dataclass(frozen=True)
class DriftRules:
    psi_threshold: float = 0.25
    ks_threshold: float = 0.3  # also required: the CDFs differ by at least this much
    bins: int = 10
    min_points: int = 20


def psi(reference: FloatArray, current: FloatArray, bins: int = 10) -> float:
    """Population Stability Index of ``current`` against ``reference`` (bins: its quantiles)."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return 0.0
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1))[1:-1])
    expected = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1)
    actual = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=edges.size + 1)
    return histogram_psi(expected, actual)


def histogram_psi(expected: FloatArray | np.ndarray, actual: FloatArray | np.ndarray) -> float:
    """PSI between two histograms over the same bins (e.g. Prometheus histogram buckets)."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.sum() <= 0 or a.sum() <= 0:
        return 0.0
    e = np.maximum(e / e.sum(), EMPTY_BIN)
    a = np.maximum(a / a.sum(), EMPTY_BIN)
    return float(np.sum((a - e) * np.log(a / e)))


def drift_finding(series: Series, split: float, rules: DriftRules = DriftRules()) -> Finding | None:
    """A drift finding when the values at or after ``split`` are distributed unlike those before."""
    s = Series.of(series.metric, series.timestamps, series.values, series.labels)
    before = s.values[s.timestamps < split]
    after = s.values[s.timestamps >= split]
    if before.size < rules.min_points or after.size < rules.min_points:
        return None
    index = psi(before, after, rules.bins)
    # imported here, not at the top: scipy.stats costs ~0.7 s, and a command that only reads
    # the configuration (a cold `medic search`) must not pay it
    from scipy.stats import ks_2samp

    ks = ks_2samp(before, after)
    statistic, pvalue = float(ks.statistic), float(ks.pvalue)
    if index < rules.psi_threshold or statistic < rules.ks_threshold:
        return None
    level, observed = float(np.median(before)), float(np.median(after))
    return Finding(
        metric=s.metric,
        labels=dict(s.labels),
        start=float(s.timestamps[s.timestamps >= split][0]),
        end=float(s.timestamps[-1]),
        direction=Direction.UP if observed >= level else Direction.DOWN,
        baseline=level,
        observed=observed,
        magnitude=ratio(observed, level),
        confidence=round(min(1.0, statistic), 4),
        detector="drift",
        details={"psi": round(index, 4), "ks": round(statistic, 4), "ks_pvalue": pvalue},
        kind=FindingKind.DRIFT,
    )
