"""Each univariate detector on synthetic signals: spike, level shift, trend, seasonality, flat."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.changepoint import Cusum
from detectors.detector import PointDetector
from detectors.discord import Discord
from detectors.rarity import ValueRarity
from detectors.robust import RollingMedian, RollingRobustZ
from detectors.seasonal import DAY, SeasonalGap
from detectors.smoothing import HoltResidual
from tests.detectors.signals import STEP, daily, noise, times, with_shift, with_spike


def stream(detector: PointDetector, values: np.ndarray, step: float = STEP) -> np.ndarray:
    return np.array(
        [detector.update(t, x) for t, x in zip(times(values.size, step), values, strict=True)]
    )


def test_robust_z_flags_the_spike_and_not_the_noise() -> None:
    z = stream(RollingRobustZ(window=100), with_spike(noise(300), 250, 3.0))
    assert abs(z[250]) > 20
    assert np.nanmax(np.abs(np.delete(z, 250)[20:])) < 6


def test_robust_z_is_not_fooled_by_earlier_spikes_in_its_window() -> None:
    values = noise(300)
    values[200:205] = 10_000.0  # outliers inside the reference window
    z = stream(RollingRobustZ(window=100), with_spike(values, 250, 1.5))
    assert z[250] > 10


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=60), st.integers(1, 25))
def test_rolling_median_and_mad_match_numpy(values: list[float], window: int) -> None:
    rolling = RollingMedian(window)
    for i, v in enumerate(values):
        rolling.add(v)
        recent = np.array(values[max(0, i + 1 - window) : i + 1])
        median = float(np.median(recent))
        assert rolling.median() == pytest.approx(median, rel=1e-12, abs=1e-6)
        expected = float(np.median(np.abs(recent - median)))
        assert rolling.mad() == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_holt_follows_a_trend_and_flags_its_break() -> None:
    values = (
        100 + 0.5 * np.arange(400) + noise(400, 0.0) + np.random.default_rng(2).normal(0, 1, 400)
    )
    values[300:] -= 60  # the trend breaks
    residual = stream(HoltResidual(alpha=0.3, beta=0.05), values)
    assert np.nanmax(np.abs(residual[100:300])) < 8  # learnt the slope: small residuals
    assert residual[300] < -40


def test_holt_extrapolates_the_trend_over_a_gap() -> None:
    holt = HoltResidual(alpha=0.5, beta=0.2)
    for i in range(200):
        holt.update(i * STEP, 2.0 * i)
    assert holt.forecast(299 * STEP) == pytest.approx(598.0, rel=0.02)


def test_cusum_accumulates_a_shift_too_small_for_any_single_point() -> None:
    values = np.random.default_rng(4).normal(0, 1, 600)
    values[400:] += 1.0  # one sigma: no point stands out
    stat = stream(Cusum(window=300), values)
    assert stat[500] > 3 * np.nanmax(stat[:400])
    assert np.nanmax(np.abs(stream(RollingRobustZ(window=300), values)[400:420])) < 4.5


def test_seasonal_explains_the_daily_cycle_and_flags_a_flat_day() -> None:
    step = 300.0
    n = int(5 * DAY / step)
    values = daily(n, step)
    today = int(4 * DAY / step)
    values[today + 40 : today + 100] = 100.0  # flat where the cycle should peak (6 h)
    gap = stream(SeasonalGap(periods_back=3), values, step)
    assert np.isnan(gap[: int(DAY / step) - 10]).all()  # no past day yet: no evidence
    usual = np.abs(gap[int(DAY / step) + 10 : today])
    assert np.nanpercentile(usual, 99) < 5
    assert np.nanmin(np.abs(gap[today + 60 : today + 80])) > 20


def test_discord_finds_a_new_shape_but_not_a_repeated_one() -> None:
    pattern = np.concatenate([np.zeros(40), np.hanning(20) * 50])
    values = np.tile(pattern, 20) + np.random.default_rng(5).normal(0, 0.5, 1200)
    values[1000:1020] = np.linspace(0, 50, 20)  # a ramp where the bump should be
    distance = stream(Discord(length=16, history=500, stride=1), values)
    assert np.nanmax(distance[300:990]) < 0.3 * np.nanmax(distance[1000:1030])


def test_flat_line_gives_no_surprise_to_any_detector() -> None:
    flat = np.full(300, 7.0)
    for detector in (RollingRobustZ(), HoltResidual(), Cusum(), Discord(length=8), ValueRarity()):
        stats = stream(detector, flat)
        finite = stats[np.isfinite(stats)]
        if detector.name == "rarity":
            assert (finite == 7.0).all()
        else:
            assert np.allclose(finite, 0.0), detector.name


@pytest.mark.parametrize(
    "detector",
    [RollingRobustZ(window=400), HoltResidual(), SeasonalGap(), ValueRarity()],
    ids=lambda d: d.name,
)
def test_judging_a_window_equals_streaming_without_learning(detector: PointDetector) -> None:
    values = with_shift(noise(300, seed=9), 250, 2.0)
    t = times(values.size)
    _, window = detector.judge(t, values, 200)
    fresh = type(detector)(window=400) if isinstance(detector, RollingRobustZ) else type(detector)()
    streamed = np.array(
        [
            fresh.update(ti, xi, learn=i < 200)
            for i, (ti, xi) in enumerate(zip(t, values, strict=True))
        ]
    )[200:]
    if isinstance(detector, HoltResidual):
        assert np.allclose(window, streamed)
    else:
        assert np.array_equal(np.isnan(window), np.isnan(streamed))
        assert np.allclose(window[np.isfinite(window)], streamed[np.isfinite(streamed)])


def test_discord_judge_compares_later_subsequences_with_the_baseline_only() -> None:
    pattern = np.concatenate([np.zeros(10), np.ones(10) * 5])
    values = np.tile(pattern, 15)
    values[250:260] = 20.0
    baseline, window = Discord(length=10, stride=1).judge(times(values.size), values, 200)
    assert np.nanmax(baseline) < 1e-6  # every baseline shape recurs
    assert np.nanmax(window[:40]) < 1e-6 and np.nanmax(window[50:70]) > 10


def test_bad_parameters_are_refused() -> None:
    for make in (
        lambda: HoltResidual(alpha=0.0),
        lambda: SeasonalGap(period=-1.0),
        lambda: Discord(length=1),
    ):
        with pytest.raises(ValueError):
            make()


def test_huge_magnitudes_stay_finite_or_give_no_evidence() -> None:
    values = noise(200) * 1e150
    values[150] = 1e300
    for detector in (RollingRobustZ(), HoltResidual(), Cusum(), Discord(length=8)):
        stats = stream(detector, values)
        assert not np.isinf(stats).any(), detector.name
        assert np.isfinite(stats[150]) or math.isnan(stats[150]), detector.name
