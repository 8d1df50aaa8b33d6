"""Reference detectors for NAB: the null detector (NAB's zero point) and NAB's windowed Gaussian
(re-implemented; its scores reproduce the upstream per-file results exactly, which is how the
scorer is validated)."""

from __future__ import annotations

import math

import numpy as np

from detectors.evaluation.scorer import NULL_SCORE
from detectors.series import FloatArray

GAUSSIAN_WINDOW = 6400
GAUSSIAN_STEP = 100


def null_scores(values: FloatArray) -> FloatArray:
    return np.full(values.shape, NULL_SCORE)


def windowed_gaussian_scores(values: FloatArray) -> FloatArray:
    """NAB's windowedGaussian: 1 - two-sided normal tail of each value against the mean and
    standard deviation of the values before it (growing to 6400 values, then sliding in steps of
    100), rounded to 12 decimals as NAB's result files store them."""
    x = np.asarray(values, dtype=np.float64)
    out = np.zeros(x.size)
    start = end = pending = 0  # the window is x[start:end]
    mean, std = 0.0, 1.0
    for i, value in enumerate(x.tolist()):
        if end > start:
            z = abs(value - mean) / std
            out[i] = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        if end - start < GAUSSIAN_WINDOW:
            end = i + 1
        else:
            pending += 1
            if pending < GAUSSIAN_STEP:
                continue
            start, end, pending = start + GAUSSIAN_STEP, i + 1, 0
        mean = float(np.mean(x[start:end]))
        std = float(np.std(x[start:end])) or 0.000001
    return np.round(out, 12)
