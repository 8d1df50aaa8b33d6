from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import (
    DEFAULT_ENSEMBLE,
    DetectorConfigError,
    EnsembleConfig,
    Member,
    StreamingEnsemble,
    score_series,
)
from detectors.analysis import combine_surprises
from detectors.calibration import surprise_score
from detectors.ensemble import AlarmGroup, CausalSuppressor, RecurrenceDiscount, combine
from tests.detectors.signals import noise, times, with_shift, with_spike

RARITY_ONLY = EnsembleConfig((Member("rarity"),))


def test_a_spike_is_the_top_score_reported_after_the_grouping_delay() -> None:
    values = with_spike(noise(2000, sigma=0.05), 1500, 2.0)
    scores = score_series(DEFAULT_ENSEMBLE, times(2000), values, learning_points=300)
    held = round(DEFAULT_ENSEMBLE.grouping * 300)
    assert held > 0
    assert int(np.argmax(scores)) == 1500 + held
    assert scores[1500 + held] > 0.6
    assert np.max(np.delete(scores, 1500 + held)) < 0.5


def test_learning_period_scores_zero() -> None:
    values = with_spike(noise(600), 100, 5.0)
    scores = score_series(DEFAULT_ENSEMBLE, times(600), values, learning_points=300)
    assert not scores[:300].any()


def test_one_alarm_per_event_not_one_per_point() -> None:
    values = with_shift(noise(2000, sigma=0.05), 1500, 3.0)
    scores = score_series(RARITY_ONLY, times(2000), values, learning_points=500)
    alarms = np.flatnonzero(scores > 0.5)
    assert alarms.size >= 1 and alarms[0] == 1500 + round(RARITY_ONLY.grouping * 500)
    assert alarms.size <= 2  # the rest of the new level is suppressed while it is not worse


def test_an_event_building_up_over_points_raises_one_alarm_with_its_peak() -> None:
    group = AlarmGroup(hold=3)
    raw = [0.0, 0.3, 0.5, 0.9, 0.6, 0.0, 0.0, 0.7]
    alarms = [0.0, 0.3, 0.5, 0.9, 0.0, 0.0, 0.0, 0.7]  # what non-maximum suppression lets through
    reported = [group.update(a, s) for a, s in zip(alarms, raw, strict=True)]
    assert reported == [0.0, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0]  # the last alarm is still held
    assert AlarmGroup(hold=0).update(0.4, 0.4) == 0.4


def test_a_longer_learning_period_needs_a_rarer_event_for_the_same_score() -> None:
    values = with_spike(noise(4000, sigma=0.05), 3500, 1.3)
    short = score_series(RARITY_ONLY, times(4000), values, learning_points=300)
    long = score_series(RARITY_ONLY, times(4000), values, learning_points=3000)
    assert 0 < long.max() < short.max()
    members = (Member("rarity"),)
    assert combine({"rarity": 6.0}, members, multiplicity=10.0) == pytest.approx(5.0)


def test_suppressor_keeps_only_scores_beating_the_recent_window() -> None:
    suppressor = CausalSuppressor(window=3)
    kept = [suppressor.update(s) for s in [0.1, 0.9, 0.5, 0.95, 0.2, 0.3, 0.1, 0.1, 0.1, 0.4]]
    assert kept == [0.1, 0.9, 0.0, 0.95, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4]


def test_non_finite_points_score_zero_and_do_not_disturb_the_rest() -> None:
    values = noise(800)
    values[[400, 401, 600]] = [np.nan, np.inf, -np.inf]
    scores = score_series(DEFAULT_ENSEMBLE, times(800), values, learning_points=200)
    assert scores[[400, 401, 600]].tolist() == [0.0, 0.0, 0.0]
    assert np.max(scores) < 0.5


def test_explained_member_counts_only_what_its_explanation_leaves() -> None:
    members = (Member("rarity", explained_by="seasonal"), Member("seasonal", weight=0.0))
    assert combine({"rarity": 9.0, "seasonal": 1.0}, members) == 1.0
    assert combine({"rarity": 9.0, "seasonal": math.nan}, members) == 9.0  # no history yet


def test_weights_scale_votes_and_more_voters_pay_a_correction() -> None:
    one = (Member("rarity"),)
    two = (Member("rarity"), Member("holt", weight=0.5))
    assert combine({"rarity": 6.0}, one) == 6.0
    assert combine({"rarity": 6.0, "holt": 10.0}, two) == pytest.approx(6.0 - math.log10(2))


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["rarity", "holt", "seasonal", "discord"]),
        st.one_of(st.floats(0, 1e3), st.just(math.nan)),
    )
)
def test_vectorised_and_scalar_combination_agree(surprises: dict[str, float]) -> None:
    members = DEFAULT_ENSEMBLE.univariate
    scalar = combine(surprises, members)
    vector = combine_surprises({k: np.array([v]) for k, v in surprises.items()}, members, 1)
    assert vector[0] == pytest.approx(scalar)


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ((Member("magic"),), "unknown detector 'magic'"),
        ((Member("rarity", weight=-1),), "weight must be >= 0"),
        ((Member("rarity", explained_by="seasonal"),), "explained_by 'seasonal'"),
        ((Member("rarity"), Member("rarity")), "only once"),
        ((Member("rarity", weight=0),), "at least one member"),
    ],
)
def test_bad_configuration_is_refused_with_a_reason(
    members: tuple[Member, ...], problem: str
) -> None:
    with pytest.raises(DetectorConfigError, match=problem):
        EnsembleConfig(members)


def test_bad_detector_parameters_are_a_configuration_error() -> None:
    config = EnsembleConfig((Member("holt", params={"alpha": 5.0}),))
    with pytest.raises(DetectorConfigError, match="holt: bad parameters"):
        score_series(config, times(10), noise(10), 5)


@pytest.mark.parametrize("recurrence", [False, True])
def test_scoring_a_whole_series_gives_exactly_the_streamed_scores(recurrence: bool) -> None:
    """The NAB evaluation scores member by member; a live stream scores point by point."""
    values = with_spike(with_shift(noise(1500, sigma=0.05), 900, 1.4), 1200, 3.0)
    values[[300, 301]] = [np.nan, np.inf]
    config = replace(DEFAULT_ENSEMBLE, recurrence=recurrence)
    ensemble = StreamingEnsemble(config, learning_points=200)
    streamed = [ensemble.update(t, x) for t, x in zip(times(1500), values, strict=True)]
    assert score_series(config, times(1500), values, 200).tolist() == streamed


def test_an_alarm_the_series_keeps_raising_counts_less_each_time() -> None:
    discount = RecurrenceDiscount()
    five, eight = (float(surprise_score(s)) for s in (5.0, 8.0))
    assert discount.update(five) == five  # the first of its size is not discounted
    assert discount.update(0.0) == 0.0
    assert discount.update(five) == pytest.approx(float(surprise_score(5.0 - math.log10(2))))
    assert discount.update(five) == pytest.approx(float(surprise_score(5.0 - math.log10(3))))
    assert discount.update(eight) == pytest.approx(eight)  # stronger than all before it


def test_recurring_bursts_stop_alarming_while_a_new_kind_of_event_still_does() -> None:
    values = noise(6000, sigma=0.05)
    for at in range(1000, 5000, 400):  # a burst of the same height every 400 points
        values[at] *= 1.6
    values[5500] *= 3.0
    config = replace(DEFAULT_ENSEMBLE, recurrence=True)
    plain = score_series(DEFAULT_ENSEMBLE, times(6000), values, 500)
    discounted = score_series(config, times(6000), values, 500)
    bursts = slice(3000, 5100)
    assert discounted[bursts].max() < plain[bursts].max()
    assert discounted[5500:5520].max() == pytest.approx(plain[5500:5520].max())
