"""Bayesian online change-point detection (Adams & MacKay, 2007), as a gate after a level shift.

After a series moves to a new level, every member judges the new values against a history that
is mostly the old level, so the points after the shift keep alarming until the calibrators
forget. BOCPD keeps a posterior over the *run length* (how many points since the last change);
under a Normal model with unknown mean and variance (Normal-Gamma prior, Student-t predictive)
each run length has its own prediction of the next value. ``run_predictions`` streams a series
and returns, for every point, the most probable run length before the point was seen and how
surprising the point is to that run's own prediction (two-sided, ``-log10 p``). A gate can then
judge a point that follows a detected change by the new segment's own run.

Constants: the hazard (one change per ``expected_run`` points), the longest run kept
(``max_run``; longer runs are merged, so memory and time per point are O(max_run)) and the
prior, set from the series' own learning period (its median and squared scaled MAD).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, stdtr

from detectors.series import FloatArray


@dataclass(frozen=True)
class RunPredictions:
    """Per point: the MAP run length before the point (-1 where there was no evidence yet) and
    the point's two-sided surprise under that run's Student-t prediction (0 where unknown)."""

    run: np.ndarray
    surprise: FloatArray


def normal_gamma_prior(values: FloatArray) -> tuple[float, float]:
    """(mean, variance) for the prior from a learning period: its median and scaled MAD, with
    a floor so a flat learning period still leaves room for noise."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    centre = float(np.median(finite))
    mad = 1.4826 * float(np.median(np.abs(finite - centre)))
    floor = max(abs(centre) * 1e-3, 1e-6)
    return centre, max(mad, float(np.std(finite)) * 0.1, floor) ** 2


def run_predictions(
    values: FloatArray,
    expected_run: float,
    max_run: int,
    prior_mean: float,
    prior_variance: float,
) -> RunPredictions:
    """Stream ``values`` through BOCPD (constant hazard ``1 / expected_run``)."""
    x = np.asarray(values, dtype=np.float64)
    size = max(int(max_run), 2)
    hazard = 1.0 / max(float(expected_run), 1.0)
    kappa0, alpha0 = 1.0, 1.0
    beta0 = alpha0 * max(prior_variance, 1e-300)
    counts = np.arange(size, dtype=np.float64)  # run length r: r observations in the segment
    kappa = kappa0 + counts
    alpha = alpha0 + counts / 2.0
    nu = 2.0 * alpha
    spread = (kappa + 1) / (alpha * kappa)  # predictive variance = beta * spread
    constant = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * math.pi * spread)
    shrink = kappa / (kappa + 1)
    mean = np.full(size, prior_mean)
    beta = np.full(size, beta0)
    prob = np.zeros(size)
    prob[0] = 1.0
    run = np.full(x.size, -1, dtype=np.int64)
    loc = np.zeros(x.size)
    scale = np.ones(x.size)
    df = np.ones(x.size)
    for i, xi in enumerate(x.tolist()):
        if not math.isfinite(xi):
            continue
        best = int(np.argmax(prob))
        run[i], loc[i], df[i] = best, mean[best], nu[best]
        scale[i] = math.sqrt(beta[best] * spread[best])
        diff2 = (xi - mean) ** 2
        log_pred = (
            constant - 0.5 * np.log(beta) - (nu + 1) / 2 * np.log1p(diff2 / (nu * beta * spread))
        )
        joint = prob * np.exp(log_pred - log_pred.max())
        change = float(joint.sum()) * hazard
        tail = joint[-1] * (1 - hazard)
        prob[1:] = joint[:-1] * (1 - hazard)
        prob[-1] += tail  # the longest run stays longest (merged)
        prob[0] = change
        prob /= prob.sum()
        new_mean = mean + (xi - mean) / (kappa + 1)
        new_beta = beta + shrink * diff2 / 2
        # the merged longest run forgets at its own count, so its variance does not grow
        tail_mean = new_mean[-1]
        tail_beta = beta0 + (beta[-1] - beta0) * shrink[-1] + shrink[-1] * diff2[-1] / 2
        mean[1:], beta[1:] = new_mean[:-1], new_beta[:-1]
        mean[0], beta[0] = prior_mean, beta0
        mean[-1], beta[-1] = tail_mean, tail_beta
    t = np.abs(x - loc) / scale
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2.0 * stdtr(df, -np.nan_to_num(t))
        surprise = np.where(run >= 0, -np.log10(np.maximum(p, 1e-300)), 0.0)
    return RunPredictions(run, np.maximum(surprise, 0.0))


def gated(
    combined: FloatArray, predictions: RunPredictions, min_run: int, max_run: int
) -> FloatArray:
    """The combined surprise, capped by the new segment's own surprise wherever the most
    probable run is shorter than the points seen (a change was detected) and long enough
    (``min_run``) for that segment to predict anything; elsewhere unchanged."""
    seen = np.cumsum(predictions.run >= 0) - 1
    recent = (
        (predictions.run >= min_run)
        & (predictions.run < np.minimum(seen, max_run - 1))
        & (predictions.run >= 0)
    )
    return np.where(recent, np.minimum(combined, predictions.surprise), combined)
