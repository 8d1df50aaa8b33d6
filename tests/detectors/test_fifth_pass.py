"""The fifth NAB pass (issue 13): an extreme-value alarm level per series (SPOT / DSPOT) and a
Bayesian online change-point gate. Each does what it is for on a series built to show it."""

from __future__ import annotations

import numpy as np

from detectors.bocpd import gated, normal_gamma_prior, run_predictions
from detectors.calibration import Sides, TailModel
from detectors.spot import drift_removed, gpd_tail, spot_surprises, tail_surprise


def heavy(n: int, seed: int = 3) -> np.ndarray:
    """Bursty magnitudes: a Student t with 2 degrees of freedom, folded (a power-law tail)."""
    return np.abs(np.random.default_rng(seed).standard_t(2, n))


def test_spot_fits_a_heavy_tail_as_heavy_and_a_light_one_as_light() -> None:
    rng = np.random.default_rng(4)
    shape_heavy, _ = gpd_tail(heavy(20000)[heavy(20000) > 4] - 4)
    shape_light, _ = gpd_tail(rng.exponential(1.0, 2000))
    assert shape_heavy > 0.25
    assert abs(shape_light) < 0.15


def test_spot_does_not_call_a_bursty_series_next_burst_a_one_in_a_billion_event() -> None:
    history = heavy(8000)
    burst = np.array([1.5 * float(history.max())])  # a little beyond the largest burst so far
    spot = tail_surprise(history, burst)[0]
    exponential = TailModel(history, Sides.UPPER, tail=0.05, min_tail=8).surprise(burst)[0]
    assert 3.0 < spot < 5.0  # rarer than anything in 8,000 points, by a power law
    assert exponential > 8.0  # an exponential tail over-claims on a power law
    assert tail_surprise(history, np.array([1e4]))[0] > 6  # far beyond every peak: rare


def test_spot_judges_each_point_by_the_past_only() -> None:
    scores = heavy(3000)
    changed = scores.copy()
    changed[2000:] *= 10
    a, b = spot_surprises(scores, 500, refit=250), spot_surprises(changed, 500, refit=250)
    assert np.array_equal(a[:2000], b[:2000])
    assert not a[:500].any()  # nothing is judged while learning


def test_dspot_takes_a_slow_drift_of_the_score_out() -> None:
    ramp = np.linspace(0, 20, 2000) + np.random.default_rng(1).normal(0, 0.1, 2000)
    assert np.abs(drift_removed(ramp, 50)[100:]).max() < 1
    assert (
        spot_surprises(drift_removed(ramp, 50), 500, refit=250).max()
        < spot_surprises(ramp, 500, refit=250).max()
    )


def test_bocpd_starts_a_new_run_at_a_level_shift_and_judges_by_it() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(0, 1, 3000)
    values[2000:] += 6
    mean, variance = normal_gamma_prior(values[:500])
    p = run_predictions(values, 500, 400, mean, variance)
    assert p.surprise[2000] > 5  # the shift itself is an alarm
    assert p.run[2010] < 15  # a new run started at the shift
    assert p.surprise[2030:2300].max() < 4.5  # the new level is normal for the new run
    combined = np.full(values.size, 8.0)
    capped = gated(combined, p, min_run=10, max_run=400)
    assert capped[1500] == 8.0  # no change detected: unchanged
    assert capped[2050] < 4.5  # after the change, judged by the new segment


def test_bocpd_keeps_the_long_run_on_a_steady_series() -> None:
    values = np.random.default_rng(8).normal(5, 2, 2000)
    mean, variance = normal_gamma_prior(values[:300])
    p = run_predictions(values, 300, 300, mean, variance)
    assert np.mean(p.run[1000:] >= 299) > 0.9
    assert np.mean(gated(np.full(2000, 3.0), p, 10, 300)[1000:] == 3.0) > 0.9  # no gate
