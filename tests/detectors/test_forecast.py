from __future__ import annotations

import math

import numpy as np
import pytest

from detectors import FindingKind, ForecastRules, Series, forecast_finding, time_to_threshold
from tests.detectors.signals import STEP, times

RULES = ForecastRules(horizon=6 * 3600, lookback=1800)


def growing(rate: float, noise: float = 0.0, n: int = 240, seed: int = 1) -> Series:
    t = times(n)
    jitter = np.random.default_rng(seed).normal(0, noise, n) if noise else 0.0
    return Series.of("disk_used_pct", t, 50 + rate * t + jitter)


def test_linear_growth_gives_the_crossing_time_inside_its_band() -> None:
    s = growing(0.002, noise=0.2)
    truth = (90 - (50 + 0.002 * s.timestamps[-1])) / 0.002
    forecast = time_to_threshold(s, 90.0, RULES)
    assert forecast is not None
    assert forecast.eta == pytest.approx(truth, rel=0.1)
    assert forecast.earliest <= truth <= forecast.latest
    assert forecast.bounded


def test_noisier_data_widens_the_band() -> None:
    calm = time_to_threshold(growing(0.002, noise=0.05), 90.0, RULES)
    noisy = time_to_threshold(growing(0.002, noise=1.5), 90.0, RULES)
    assert calm is not None and noisy is not None
    assert noisy.latest - noisy.earliest > calm.latest - calm.earliest


def test_falling_metric_heading_for_a_lower_limit() -> None:
    s = Series.of("free_bytes", times(200), 1000 - 0.1 * times(200))
    forecast = time_to_threshold(s, 100.0, RULES)
    assert forecast is not None and forecast.slope < 0
    assert forecast.eta == pytest.approx((1000 - 0.1 * 199 * STEP - 100) / 0.1, rel=0.01)


def test_flat_or_receding_metrics_are_not_heading_for_the_limit() -> None:
    assert time_to_threshold(Series.of("m", times(200), np.full(200, 40.0)), 90.0, RULES) is None
    assert time_to_threshold(growing(-0.002), 90.0, RULES) is None


def test_already_crossed_means_now() -> None:
    s = Series.of("m", times(200), np.linspace(80, 95, 200))
    forecast = time_to_threshold(s, 90.0, RULES)
    assert forecast is not None and forecast.eta == 0.0


def test_slope_that_might_be_zero_leaves_the_latest_crossing_open() -> None:
    forecast = time_to_threshold(growing(0.0003, noise=2.0), 90.0, RULES)
    assert forecast is None or math.isinf(forecast.latest)


def test_finding_only_when_the_crossing_may_come_within_the_horizon() -> None:
    soon = forecast_finding(growing(0.002), 90.0, RULES)
    assert soon is not None and soon.kind is FindingKind.FORECAST
    assert soon.forecast is not None and soon.end == soon.start + soon.forecast.eta
    assert forecast_finding(growing(0.00001), 90.0, RULES) is None


def test_too_few_points_or_bad_limits_give_nothing() -> None:
    assert time_to_threshold(Series.of("m", times(5), np.arange(5.0)), 90.0, RULES) is None
    assert time_to_threshold(growing(0.002), math.nan, RULES) is None
