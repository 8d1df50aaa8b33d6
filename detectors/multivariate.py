"""A service's metrics together: an IsolationForest over their robust z-scores.

Fitted on the baseline's rows (one row per timestamp, one column per metric), it finds joint
states that no single metric reveals. Its evidence is shared out to the metrics in proportion to
each one's squared z-score at that moment, so the metric that moved is the one that is told.
"""

from __future__ import annotations

import numpy as np

from detectors.series import FloatArray

Z_CLIP = 1e6  # keeps huge magnitudes finite for the forest


class JointIsolation:
    name = "isolation_forest"

    def __init__(self, trees: int = 32, max_samples: int = 128, seed: int = 0) -> None:
        self.trees = trees
        self.max_samples = max_samples
        self.seed = seed

    def judge(self, z: FloatArray, split: int) -> tuple[FloatArray, FloatArray]:
        """Isolation statistic (higher = more isolated) of the baseline rows, in sample, and of
        the later rows; NaN when there are too few rows or metrics to learn from."""
        rows = z.shape[0]
        if z.ndim != 2 or z.shape[1] < 2 or split < 20:
            nothing = np.full(rows, np.nan)
            return nothing[:split], nothing[split:]
        features = np.clip(np.nan_to_num(z, nan=0.0), -Z_CLIP, Z_CLIP)
        from sklearn.ensemble import IsolationForest  # seconds to import: only when used

        forest = IsolationForest(
            n_estimators=self.trees,
            max_samples=min(self.max_samples, split),
            random_state=self.seed,
        ).fit(features[:split])
        isolation = -np.asarray(forest.score_samples(features), dtype=np.float64)
        return isolation[:split], isolation[split:]


def deviation_shares(z: FloatArray) -> FloatArray:
    """Each metric's share (rows sum to 1, or 0 when nothing deviates) of the squared z-scores."""
    squared = np.square(np.clip(np.nan_to_num(z, nan=0.0), -Z_CLIP, Z_CLIP))
    total = squared.sum(axis=1, keepdims=True)
    shares: FloatArray = np.divide(squared, total, out=np.zeros_like(squared), where=total > 0)
    return shares
