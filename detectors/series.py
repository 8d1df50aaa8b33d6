"""A metric time series: one metric, one label set, aligned timestamps and values."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def series_key(metric: str, labels: dict[str, str]) -> str:
    """Prometheus-style identity, e.g. ``latency_p95_ms{region="eu-west-1"}``."""
    if not labels:
        return metric
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


@dataclass(frozen=True)
class Series:
    """Samples of one metric for one label set.

    Timestamps are Unix seconds. Construction sorts by time, drops duplicate timestamps (last
    sample wins) and non-finite values, so detectors never see NaNs or disorder.
    """

    metric: str
    timestamps: FloatArray
    values: FloatArray
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        metric: str,
        timestamps: npt.ArrayLike,
        values: npt.ArrayLike,
        labels: dict[str, str] | None = None,
    ) -> Series:
        ts = np.asarray(timestamps, dtype=np.float64)
        vs = np.asarray(values, dtype=np.float64)
        if ts.shape != vs.shape or ts.ndim != 1:
            raise ValueError(
                f"series {metric}: timestamps and values must be 1-d and of equal length, "
                f"got {ts.shape} and {vs.shape}"
            )
        keep = np.isfinite(ts) & np.isfinite(vs)
        ts, vs = ts[keep], vs[keep]
        order = np.argsort(ts, kind="stable")
        ts, vs = ts[order], vs[order]
        if ts.size > 1:
            # keep the last sample of each run of equal timestamps
            last = np.append(ts[1:] != ts[:-1], True)
            ts, vs = ts[last], vs[last]
        return cls(metric=metric, timestamps=ts, values=vs, labels=dict(labels or {}))

    @property
    def key(self) -> str:
        return series_key(self.metric, self.labels)

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def between(self, start: float, end: float) -> Series:
        """The samples with ``start <= t < end``."""
        mask = (self.timestamps >= start) & (self.timestamps < end)
        return Series(self.metric, self.timestamps[mask], self.values[mask], dict(self.labels))

    def at_most(self, points: int) -> Series:
        """This series, or every k-th sample of it so that at most ``points`` remain."""
        if len(self) <= points:
            return self
        step = -(-len(self) // points)
        return Series(self.metric, self.timestamps[::step], self.values[::step], dict(self.labels))
