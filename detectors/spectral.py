"""Spectral residual (Ren et al., KDD'19, "Time-Series Anomaly Detection Service at Microsoft"):
how salient the latest point is once the series' usual spectrum is taken out.

Over the last ``window`` points (extended by ``extension`` points extrapolated from the recent
slope, so the latest point is not at the FFT's edge), the log-amplitude spectrum less its local
average (``q`` frequencies) is the *spectral residual*; transformed back with the original phases
it is a saliency map, large where the series does something its regular, repeated structure does
not explain. The statistic is the latest point's saliency relative to the mean saliency of the
``z`` points before it (the paper's score). It needs no model of the series and no scale: a burst
that the window already shows many times has a flat residual. Implemented here from the paper
with numpy's FFT; the constants (q 3, z 21, extension 5 from 5 slopes) are the paper's.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from detectors.calibration import Sides
from detectors.detector import NO_EVIDENCE, judge_by_streaming
from detectors.series import FloatArray


def saliency(values: FloatArray, q: int = 3) -> FloatArray:
    """The spectral residual's saliency map of ``values`` (same length)."""
    spectrum = np.fft.fft(values)
    amplitude = np.abs(spectrum)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_amplitude = np.log(np.maximum(amplitude, 1e-12))
        average = np.convolve(log_amplitude, np.ones(q) / q, mode="same")
        phase = np.where(amplitude > 0, spectrum / np.maximum(amplitude, 1e-300), 0.0)
        residual = np.exp(log_amplitude - average) * phase
    return np.asarray(np.abs(np.fft.ifft(residual)), dtype=np.float64)


def extended(values: FloatArray, points: int = 5, slopes: int = 5) -> FloatArray:
    """``values`` followed by ``points`` copies of the paper's estimate of the next point: the
    value ``slopes`` back plus that many steps of the mean slope to the last value."""
    last = values[-1]
    m = min(slopes, values.size - 1)
    gradient = float(np.mean([(last - values[-1 - i]) / i for i in range(1, m + 1)]))
    estimate = values[-m] + gradient * m
    return np.concatenate([values, np.full(points, estimate)])


class SpectralResidual:
    name = "spectral"
    sides = Sides.UPPER

    def __init__(self, window: int = 64, q: int = 3, z: int = 21, extension: int = 0) -> None:
        if window < z + 2 or q < 1 or z < 1 or extension < 0:
            raise ValueError("spectral needs window >= z + 2, q >= 1, z >= 1, extension >= 0")
        self.window = window
        self.q = q
        self.z = z
        self.extension = extension
        self._recent: deque[float] = deque(maxlen=window)
        self._offset: float | None = None  # values shifted by the first one, for precision

    def update(self, t: float, x: float, learn: bool = True) -> float:
        if self._offset is None:
            self._offset = x
        recent = [*self._recent, x - self._offset]
        if learn:
            self._recent.append(x - self._offset)
        if len(recent) < self.window:
            return NO_EVIDENCE
        values = np.asarray(recent[-self.window :], dtype=np.float64)
        if not np.isfinite(values).all():
            return NO_EVIDENCE
        with np.errstate(over="ignore", invalid="ignore"):
            s = saliency(extended(values, self.extension), self.q)[: self.window]
        before = float(np.mean(s[-1 - self.z : -1]))
        last = float(s[-1])
        if not math.isfinite(last) or not math.isfinite(before):
            return NO_EVIDENCE
        return (last - before) / before if before > 1e-12 else 0.0

    def judge(self, t: FloatArray, x: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        return judge_by_streaming(self, t, x, split)
