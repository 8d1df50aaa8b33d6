"""Drift of a feature between a training profile and live Prometheus buckets: the same data over
different bins is no drift, a shift is, mass outside the training range counts, KS agrees with
the two-sample test on the raw values, and hostile histograms are merged down or refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ks_2samp

from detectors import Histogram, HistogramError, feature_drift
from detectors.histogram_drift import MAX_BINS, checked

RNG = np.random.default_rng(11)
TRAINING_EDGES = np.linspace(0.0, 200.0, 21)  # the profile's own bins
LE = [5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0]  # a Prometheus histogram's


def training(values: np.ndarray) -> Histogram:
    counts, _ = np.histogram(values, TRAINING_EDGES)
    return Histogram(tuple(TRAINING_EDGES.tolist()), tuple(counts.astype(float).tolist()))


def buckets(values: np.ndarray) -> Histogram:
    """``values`` as Prometheus exports them: cumulative ``le`` buckets made counts per bin."""
    edges = [-math.inf, *LE, math.inf]
    counts, _ = np.histogram(values, edges)
    return Histogram(tuple(edges), tuple(counts.astype(float).tolist()))


def test_the_same_distribution_over_other_bins_is_no_drift() -> None:
    ref, live = RNG.normal(80, 20, 20_000), RNG.normal(80, 20, 5_000)
    d = feature_drift("basket_value", training(ref), buckets(live))
    assert d.psi < 0.1 and d.ks < 0.1 and not d.drifted
    assert d.outside < 0.01


def test_buckets_that_stop_inside_the_training_range_are_compared_as_far_as_they_go() -> None:
    """The ``+Inf`` bucket above 100 says nothing of where its values are: no drift is made
    of the training data's tail beyond it."""
    ref, live = RNG.normal(80, 20, 20_000), RNG.normal(80, 20, 5_000)
    edges = [-math.inf, 25.0, 50.0, 75.0, 100.0, math.inf]
    counts, _ = np.histogram(live, edges)
    short = Histogram(tuple(edges), tuple(counts.astype(float).tolist()))
    d = feature_drift("basket_value", training(ref), short)
    assert d.psi < 0.1 and d.ks < 0.1 and not d.drifted


def test_a_shift_is_drift_and_the_mass_beyond_the_training_range_counts() -> None:
    ref, live = RNG.normal(80, 20, 20_000), RNG.normal(180, 30, 5_000)
    d = feature_drift("basket_value", training(ref), buckets(live))
    assert d.drifted and d.psi > 1.0 and d.ks > 0.8
    assert d.ks_pvalue is not None and d.ks_pvalue < 1e-6
    assert d.outside > 0.2  # values above 200 were never seen in training


def test_ks_over_bins_is_close_to_the_two_sample_test_on_the_values() -> None:
    ref, live = RNG.normal(80, 20, 20_000), RNG.normal(95, 25, 5_000)
    d = feature_drift("x", training(ref), training(live))
    assert d.ks == pytest.approx(ks_2samp(ref, live).statistic, abs=0.03)


def test_too_few_counts_give_no_p_value() -> None:
    d = feature_drift("x", training(RNG.normal(80, 20, 1000)), buckets(RNG.normal(80, 20, 10)))
    assert d.ks_pvalue is None


@pytest.mark.parametrize(
    ("histogram", "says"),
    [
        (Histogram((0.0, 1.0), (1.0, 2.0)), "one edge more than bins"),
        (Histogram((0.0, 2.0, 1.0), (1.0, 2.0)), "edges must increase"),
        (Histogram((0.0, 1.0, 2.0), (1.0, -2.0)), "not negative"),
        (Histogram((0.0, 1.0, 2.0), (1.0, math.nan)), "finite"),
        (Histogram((), ()), "one edge more than bins"),
    ],
)
def test_a_malformed_histogram_is_refused_saying_why(histogram: Histogram, says: str) -> None:
    with pytest.raises(HistogramError, match=says):
        feature_drift("basket_value", histogram, buckets(RNG.normal(80, 20, 100)))


def test_an_oversized_histogram_is_merged_down() -> None:
    edges = np.linspace(0.0, 200.0, 100_001)
    huge = Histogram(tuple(edges.tolist()), tuple([1.0] * 100_000))
    merged = checked(huge, "x")
    assert len(merged.counts) == MAX_BINS and sum(merged.counts) == 100_000
    assert merged.edges[0] == 0.0 and merged.edges[-1] == 200.0
    d = feature_drift("x", huge, training(RNG.uniform(0, 200, 5000)))
    assert d.psi < 0.1
