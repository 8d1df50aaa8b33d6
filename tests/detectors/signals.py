"""Synthetic signals for detector tests: noise, a spike, a level shift, a trend, daily seasonality,
a flat line. Deterministic (seeded) so a failing test fails the same way every time."""

from __future__ import annotations

import numpy as np

from detectors import Series
from detectors.series import FloatArray

STEP = 15.0
DAY = 86400.0


def times(n: int, step: float = STEP) -> FloatArray:
    return np.arange(n, dtype=np.float64) * step


def noise(n: int, level: float = 100.0, sigma: float = 0.02, seed: int = 1) -> FloatArray:
    return level * (1 + sigma * np.random.default_rng(seed).standard_normal(n))


def series(values: FloatArray, metric: str = "latency", step: float = STEP) -> Series:
    return Series.of(metric, times(values.size, step), values)


def with_spike(values: FloatArray, at: int, factor: float = 10.0) -> FloatArray:
    out = values.copy()
    out[at] *= factor
    return out


def with_shift(values: FloatArray, at: int, factor: float) -> FloatArray:
    out = values.copy()
    out[at:] *= factor
    return out


def daily(n: int, step: float, amplitude: float = 40.0, seed: int = 3) -> FloatArray:
    """A daily cycle around 100 with unit noise."""
    wave = amplitude * np.sin(2 * np.pi * times(n, step) / DAY)
    return 100.0 + wave + np.random.default_rng(seed).normal(0, 1.0, n)
