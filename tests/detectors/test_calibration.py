from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.calibration import Sides, TailCalibrator, TailModel, surprise_score


def test_surprise_grows_with_distance_beyond_everything_seen() -> None:
    model = TailModel(np.random.default_rng(0).normal(0, 1, 1000), Sides.BOTH, 0.05, 8)
    near, far, farther = model.surprise(np.array([3.5, 6.0, 12.0]))
    assert 2.0 < near < far < farther
    assert model.surprise(np.array([0.0]))[0] < 0.5  # the middle is not surprising


def test_a_spike_height_seen_before_is_no_rarer_than_its_frequency() -> None:
    reference = np.random.default_rng(2).normal(0, 1, 1000)
    reference[::100] = 20.0  # a spike of the same height every 100 points: 1 % of the history
    model = TailModel(reference, Sides.BOTH, 0.05, 8)
    usual, new_record = model.surprise(np.array([20.0, 30.0]))
    assert usual <= -math.log10(10 / 1001) + 1e-9  # at most as rare as 10 in 1001
    assert new_record > usual + 1


def test_both_sides_are_surprising_unless_only_the_upper_side_counts() -> None:
    reference = np.random.default_rng(1).normal(0, 1, 500)
    both = TailModel(reference, Sides.BOTH, 0.05, 8).surprise(np.array([-8.0, 8.0]))
    upper = TailModel(reference, Sides.UPPER, 0.05, 8).surprise(np.array([-8.0, 8.0]))
    assert both[0] > 5 and both[1] > 5
    assert upper[0] < 0.1
    assert upper[1] > 5


def test_flat_reference_makes_any_departure_very_surprising() -> None:
    model = TailModel(np.full(100, 5.0), Sides.BOTH, 0.05, 8)
    same, moved = model.surprise(np.array([5.0, 5.5]))
    assert same < 0.1
    assert moved > 100


def test_non_finite_values_and_empty_references_give_no_evidence() -> None:
    assert np.isnan(TailModel(np.array([]), Sides.BOTH, 0.05, 8).surprise(np.array([1.0]))).all()
    model = TailModel(np.arange(100.0), Sides.BOTH, 0.05, 8)
    assert np.isnan(model.surprise(np.array([np.nan, np.inf]))).all()
    calibrator = TailCalibrator()
    for v in range(100):
        calibrator.update(float(v))
    assert calibrator.update(math.nan) == 0.0
    assert len(calibrator) == 100  # NaN was not learnt


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=30, max_size=200),
    st.lists(st.floats(-1e7, 1e7), min_size=1, max_size=20),
    st.sampled_from([Sides.BOTH, Sides.UPPER]),
)
def test_streaming_calibrator_agrees_with_the_frozen_model(
    history: list[float], probes: list[float], sides: Sides
) -> None:
    calibrator = TailCalibrator(sides, history=10_000, refresh=1)
    for value in history:
        calibrator.learn(value)
    model = TailModel(np.array(history), sides, 0.05, 8)
    expected = model.surprise(np.array(probes))
    got = np.array([calibrator.surprise(p) for p in probes])
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_calibrator_forgets_beyond_its_history() -> None:
    calibrator = TailCalibrator(history=50)
    for v in range(200):
        calibrator.update(float(v))
    assert len(calibrator) == 50
    assert calibrator.surprise(100.0) > 3  # 0..149 are forgotten: 100 is far below 150..199


def test_scores_are_in_unit_interval_and_monotone() -> None:
    scores = surprise_score(np.array([0.0, 1.0, 5.0, 50.0, 1e9, np.nan, -3.0]))
    assert ((scores >= 0) & (scores < 1)).all()
    assert scores[0] == 0 and scores[2] == 0.5
    assert scores[1] < scores[2] < scores[3] < scores[4]
