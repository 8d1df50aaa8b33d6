from __future__ import annotations

import numpy as np
import pytest

from detectors import Direction, RobustBaselineDetector, Series, robust_zscore

STEP = 15.0


def series(values: list[float] | np.ndarray, metric: str = "latency") -> Series:
    values = np.asarray(values, dtype=float)
    return Series.of(metric, np.arange(values.size) * STEP, values)


def noisy(n: int, level: float, seed: int = 1, sigma: float = 0.02) -> np.ndarray:
    return level * (1 + sigma * np.random.default_rng(seed).standard_normal(n))


def test_level_shift_is_found_with_its_start_and_magnitude() -> None:
    values = np.concatenate([noisy(240, 100.0), noisy(60, 300.0, seed=2)])
    finding = RobustBaselineDetector().detect(series(values), split_at=200 * STEP)
    assert finding is not None
    assert finding.direction is Direction.UP
    assert finding.start == 240 * STEP
    assert finding.magnitude == pytest.approx(3.0, rel=0.05)
    assert finding.confidence > 0.9


def test_drop_is_reported_as_down() -> None:
    values = np.concatenate([noisy(240, 100.0), noisy(60, 40.0, seed=3)])
    finding = RobustBaselineDetector().detect(series(values), split_at=200 * STEP)
    assert finding is not None and finding.direction is Direction.DOWN
    assert finding.magnitude == pytest.approx(0.4, rel=0.05)


def test_single_spike_is_not_sustained_and_not_reported() -> None:
    values = noisy(300, 100.0)
    values[260] = 1000.0
    assert RobustBaselineDetector().detect(series(values), split_at=200 * STEP) is None


def test_noise_alone_is_not_an_anomaly() -> None:
    values = noisy(400, 100.0, sigma=0.05)
    assert RobustBaselineDetector().detect(series(values), split_at=300 * STEP) is None


def test_flat_baseline_then_step_is_found_without_dividing_by_zero() -> None:
    values = np.concatenate([np.full(100, 5.0), np.full(20, 9.0)])
    finding = RobustBaselineDetector().detect(series(values), split_at=90 * STEP)
    assert finding is not None and finding.start == 100 * STEP


def test_flat_line_throughout_is_normal() -> None:
    assert RobustBaselineDetector().detect(series(np.full(200, 3.0)), split_at=150 * STEP) is None


def test_small_but_significant_change_below_min_relative_change_is_ignored() -> None:
    values = np.concatenate([noisy(200, 100.0, sigma=0.001), noisy(40, 103.0, seed=4, sigma=0.001)])
    assert RobustBaselineDetector().detect(series(values), split_at=180 * STEP) is None


def test_too_little_baseline_gives_no_finding() -> None:
    values = np.concatenate([noisy(5, 100.0), noisy(50, 400.0)])
    assert RobustBaselineDetector().detect(series(values), split_at=5 * STEP) is None


def test_detect_all_orders_findings_by_start() -> None:
    late = np.concatenate([noisy(250, 10.0), noisy(50, 50.0)])
    early = np.concatenate([noisy(220, 10.0, seed=7), noisy(80, 50.0, seed=8)])
    found = RobustBaselineDetector().detect_all(
        [series(late, "late"), series(early, "early")], split_at=200 * STEP
    )
    assert [f.metric for f in found] == ["early", "late"]


def test_robust_zscore_ignores_outliers_in_the_baseline() -> None:
    baseline = np.array([10.0] * 50 + [10_000.0] * 3)
    baseline[:50] += np.linspace(-1, 1, 50)
    z = robust_zscore(np.array([20.0]), baseline)
    assert z[0] > 10


def test_series_drops_nans_sorts_and_deduplicates() -> None:
    s = Series.of("m", [30, 10, 20, 20, 40], [3, 1, 2, 2.5, float("nan")])
    assert s.timestamps.tolist() == [10, 20, 30]
    assert s.values.tolist() == [1, 2.5, 3]
    assert Series.of("m", [1], [1], {"b": "2", "a": "1"}).key == 'm{a="1",b="2"}'
