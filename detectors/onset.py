"""Where the level a series is at now began: the onset of a symptom, so that an investigation's
suspect window starts where the trouble did, not at the first odd point before it.

The most likely single change of level (Pettitt 1979, "A non-parametric approach to the
change-point problem"): for each split ``k`` of the samples, ``U_k`` counts how often a later
sample exceeds an earlier one less how often it falls below; ``|U_k|`` is largest at the change.
On ranks, it needs no scale and a short blip does not move it (a blip of a few points shifts few
ranks; a new level holds for many). It only locates: whether the series is abnormal at all is the
detectors' call, made before this is asked.
"""

from __future__ import annotations

import numpy as np

from detectors.series import Series

MIN_SIDE = 3  # samples on each side of a change


def level_change(series: Series, since: float) -> float | None:
    """The time of the first sample of the level the series holds at its end, judged over the
    samples from ``since`` on; None with too few samples to tell."""
    t = series.timestamps[series.timestamps >= since]
    x = series.values[series.timestamps >= since]
    n = t.size
    if n < 2 * MIN_SIDE:
        return None
    # U_k = 2 * (sum of the first k ranks) - k (n + 1), for k = 1 .. n - 1
    k = np.arange(1, n)
    # imported here, not at the top: see detectors.drift.drift_finding
    from scipy.stats import rankdata

    u = 2.0 * np.cumsum(rankdata(x))[:-1] - k * (n + 1.0)
    inside = np.abs(u[MIN_SIDE - 1 : n - MIN_SIDE])
    best = int(np.argmax(inside)) + MIN_SIDE - 1
    return float(t[best + 1])
