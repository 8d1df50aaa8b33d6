"""An alarm level per series from extreme-value theory: SPOT and DSPOT (Siffer et al., KDD 2017).

The ensemble's combined surprise is calibrated per member against each member's own history, but
the combination (a Bonferroni maximum) and the corpus-wide threshold assume that the series'
surprises are as rare as they claim. On a bursty series they are not: a series whose combined
surprise reaches 4 every day gets the same bar as one where 4 never happens. SPOT re-asks the
question on the series' own scale: the peaks of its earlier scores over a high quantile are fitted
with a generalised Pareto distribution (``scipy.stats.genpareto``, location 0), and a new score
gets that tail's probability (the rank below the quantile). The only constant a user would tune is
the risk at which to alarm; here it is the NAB threshold on ``-log10`` of that probability.
DSPOT does the same on the score less its mean over the previous ``depth`` points, so a slow drift
of the score does not count as a run of peaks.

Pure functions over arrays, causal: the score at ``i`` depends on points before ``i`` only.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.stats import genpareto

from detectors.series import FloatArray

LEVEL = 0.98  # the paper's initial quantile: peaks are the top 2 % of the history
MIN_PEAKS = 10  # fewer peaks than this: an exponential tail (shape 0), fitted by its mean
MAX_SHAPE = 1.0  # a fit beyond this on a few peaks is noise (an infinite-mean tail)


def gpd_tail(peaks: FloatArray) -> tuple[float, float]:
    """(shape, scale) of the generalised Pareto fitted to the excesses ``peaks`` (> 0).

    Few peaks or a failed fit fall back to the exponential (shape 0, scale their mean): a tail
    from a handful of points should claim no curvature it cannot show."""
    mean = float(np.mean(peaks)) if peaks.size else 0.0
    scale = max(mean, 1e-12)
    if peaks.size < MIN_PEAKS or float(np.ptp(peaks)) <= 0:
        return 0.0, scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            shape, _, fitted = genpareto.fit(peaks, floc=0.0)
        except (ValueError, RuntimeError, FloatingPointError):
            return 0.0, scale
    if not (math.isfinite(shape) and math.isfinite(fitted) and fitted > 0):
        return 0.0, scale
    return float(min(max(shape, -0.5), MAX_SHAPE)), float(fitted)


def tail_surprise(history: FloatArray, values: FloatArray, level: float = LEVEL) -> FloatArray:
    """-log10 p of each value against ``history``: the GPD tail above the history's ``level``
    quantile, the empirical rank below it. Never rarer than the history shows beyond the
    largest peak's frequency (a value a peak already reached is at most as rare as that peak)."""
    h = np.sort(history[np.isfinite(history)])
    v = np.asarray(values, dtype=np.float64)
    n = h.size
    if n == 0:
        return np.zeros(v.shape)
    edge = float(np.quantile(h, level))
    peaks = h[h > edge] - edge
    shape, scale = gpd_tail(peaks)
    share = max(peaks.size, 1) / (n + 1)
    excess = np.maximum(v - edge, 0.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if abs(shape) < 1e-9:
            log_tail = -excess / scale / math.log(10.0)
        else:
            log_tail = np.log10(np.maximum(1.0 + shape * excess / scale, 1e-300)) / -shape
        at_least = n - np.searchsorted(h, v, side="left")
        floor = np.log10(np.maximum(at_least, 1) / (n + 1))
        beyond = np.maximum(math.log10(share) + log_tail, np.where(at_least > 0, floor, -np.inf))
        rank = np.log10((at_least + 1) / (n + 1))
    log_p = np.where(v > edge, beyond, rank)
    return np.where(np.isfinite(v), np.maximum(-log_p, 0.0), 0.0)


def spot_surprises(
    scores: FloatArray,
    start: int,
    history: int = 8640,
    refit: int = 50,
    level: float = LEVEL,
) -> FloatArray:
    """SPOT over a whole series: from ``start`` on, each block of ``refit`` scores is judged
    against the scores before the block (at most ``history`` of them, from ``start // 2`` on:
    the first half of the learning period is the members' own warm-up). 0 before ``start``."""
    s = np.asarray(scores, dtype=np.float64)
    out = np.zeros(s.size)
    first = start // 2
    for i in range(max(start, 1), s.size, refit):
        past = s[max(first, i - history) : i]
        if past.size >= MIN_PEAKS:
            out[i : i + refit] = tail_surprise(past, s[i : i + refit], level)
    return out


def drift_removed(scores: FloatArray, depth: int) -> FloatArray:
    """DSPOT's input: each score less the mean of the ``depth`` scores before it (0 where there
    are none yet), so the peaks are measured from where the score has been lately."""
    s = np.nan_to_num(np.asarray(scores, dtype=np.float64))
    d = max(int(depth), 1)
    sums = np.concatenate([[0.0], np.cumsum(s)])
    idx = np.arange(s.size)
    lo = np.maximum(idx - d, 0)
    count = idx - lo
    mean = np.where(count > 0, (sums[idx] - sums[lo]) / np.maximum(count, 1), 0.0)
    return np.asarray(s - mean, dtype=np.float64)
