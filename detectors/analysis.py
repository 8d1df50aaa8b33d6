"""The alert path: which of a service's metrics left their normal band after ``split``, since when,
in which direction, by how much, with what confidence, and which label values explain it.

Every configured detector learns from the baseline (the points before ``split``) and judges the
suspect window without adapting to it; each statistic is calibrated against its own baseline
values (``TailModel``), the ensemble combines them, and a metric is abnormal when ``min_run``
consecutive points score at least ``alert_score`` in the same direction and move by at least
``min_relative_change``. Bad input (NaNs, disorder, duplicates, flat lines, single points, huge
values) is cleaned or yields no finding; it never raises.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from detectors.attribution import attribute, split_breakdowns
from detectors.calibration import HALF_SCORE_SURPRISE, Sides, TailModel, surprise_score
from detectors.ensemble import (
    MULTIVARIATE,
    EnsembleConfig,
    Member,
    build_detector,
    combine_surprises,
)
from detectors.findings import Direction, Finding, ratio
from detectors.multivariate import JointIsolation, deviation_shares
from detectors.robust import baseline_z
from detectors.series import FloatArray, Series

MIN_TAIL = 8
MIN_REFERENCE = 30  # baseline statistics needed to calibrate a detector


@dataclass(frozen=True)
class FindingRules:
    alert_score: float = 0.5  # a surprise of 5 (1 in 100,000) after the ensemble's correction
    min_run: int = 3
    min_relative_change: float = 0.1
    min_baseline_points: int = 30


@dataclass(frozen=True)
class _Prepared:
    series: Series
    split: int  # index of the first point at or after the split time

    @property
    def window(self) -> Series:
        s = self.series
        return Series(s.metric, s.timestamps[self.split :], s.values[self.split :], s.labels)


def detect_anomalies(
    series: Sequence[Series], split: float, config: EnsembleConfig, rules: FindingRules
) -> list[Finding]:
    """Findings for every abnormal series, earliest first; breakdowns of a series (same metric,
    more labels) are not reported themselves but explain its finding (``attribution``).

    Runs with one BLAS thread: the matrices are small, and on a busy machine a thread pool per
    product made an alert three times slower (60 ms -> 200 ms, ``bench_detectors.py``)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _detect(series, split, config, rules)


def _detect(
    series: Sequence[Series], split: float, config: EnsembleConfig, rules: FindingRules
) -> list[Finding]:
    cleaned = [Series.of(s.metric, s.timestamps, s.values, s.labels) for s in series]
    wholes, breakdowns = split_breakdowns(cleaned)
    prepared = [
        _Prepared(s, int(np.searchsorted(s.timestamps, split, side="left"))) for s in wholes
    ]
    usable = [
        p
        for p in prepared
        if p.split >= rules.min_baseline_points and len(p.series) - p.split >= rules.min_run
    ]
    joint = _joint_surprises(usable, split, config)
    findings = []
    for p, shared in zip(usable, joint, strict=True):
        surprises = {m.detector: _member_surprise(m, p, config.tail) for m in config.univariate}
        if shared is not None:
            surprises[MULTIVARIATE] = shared
        finding = _finding(p, surprises, config, rules)
        if finding is not None:
            parts = breakdowns.get(p.series.key, [])
            findings.append(attribute(finding, parts, split) if parts else finding)
    return sorted(findings, key=lambda f: (f.start, -f.confidence))


def _member_surprise(member: Member, p: _Prepared, tail: float) -> FloatArray:
    detector = build_detector(member)
    baseline, window = detector.judge(p.series.timestamps, p.series.values, p.split)
    return _calibrated(baseline, window, detector.sides, tail)


def _calibrated(baseline: FloatArray, window: FloatArray, sides: Sides, tail: float) -> FloatArray:
    finite = baseline[np.isfinite(baseline)]
    if finite.size < MIN_REFERENCE:
        return np.full(window.shape, np.nan)
    return TailModel(finite, sides, tail=tail, min_tail=MIN_TAIL).surprise(window)


def _joint_surprises(
    usable: list[_Prepared], split_time: float, config: EnsembleConfig
) -> list[FloatArray | None]:
    """The multivariate member's surprise, shared out to each metric; None where it cannot run
    (fewer than two metrics, or the member is not configured). Rows are the common timestamps."""
    if len(usable) < 2 or not any(
        m.detector == MULTIVARIATE and m.weight > 0 for m in config.members
    ):
        return [None] * len(usable)
    common = usable[0].series.timestamps
    for p in usable[1:]:
        common = np.intersect1d(common, p.series.timestamps, assume_unique=True)
    split = int(np.searchsorted(common, split_time, side="left"))
    z = np.column_stack(
        [
            baseline_z(p.series.values[np.searchsorted(p.series.timestamps, common)], split, 10)
            for p in usable
        ]
    )
    baseline, window = JointIsolation().judge(z, split)
    joint = _calibrated(baseline, window, Sides.UPPER, config.tail)
    shared = joint[:, None] * deviation_shares(z[split:])
    out: list[FloatArray | None] = []
    for k, p in enumerate(usable):
        mine = np.full(len(p.series) - p.split, np.nan)
        mine[np.searchsorted(p.window.timestamps, common[split:])] = shared[:, k]
        out.append(mine)
    return out


def _finding(
    p: _Prepared, surprises: dict[str, FloatArray], config: EnsembleConfig, rules: FindingRules
) -> Finding | None:
    window = p.window
    baseline_values = p.series.values[: p.split]
    level = float(np.median(baseline_values))
    combined = combine_surprises(surprises, config.members, len(window))
    scores = surprise_score(combined)
    relative = np.abs(window.values - level) / max(abs(level), 1e-9)
    candidates = []
    for direction, sign in ((Direction.UP, 1.0), (Direction.DOWN, -1.0)):
        abnormal = (
            (scores >= rules.alert_score)
            & (relative >= rules.min_relative_change)
            & (sign * (window.values - level) > 0)
        )
        first = _first_run(abnormal, rules.min_run)
        if first is not None:
            candidates.append((first, direction, abnormal))
    if not candidates:
        return None
    first, direction, abnormal = min(candidates, key=lambda c: c[0])
    hits = np.flatnonzero(abnormal[first:]) + first
    observed = float(np.median(window.values[hits]))
    persistence = hits.size / (len(window) - first)
    strength = float(np.median(combined[hits]))
    evidence = {
        name: float(np.nanmax(values[hits]))
        for name, values in surprises.items()
        if np.isfinite(values[hits]).any()
    }
    strongest = max(evidence, key=lambda name: evidence[name]) if evidence else "ensemble"
    confidence = persistence * (1.0 - math.exp(-strength / HALF_SCORE_SURPRISE))
    return Finding(
        metric=window.metric,
        labels=dict(window.labels),
        start=float(window.timestamps[first]),
        end=float(window.timestamps[hits[-1]]),
        direction=direction,
        baseline=level,
        observed=observed,
        magnitude=ratio(observed, level),
        confidence=round(confidence, 4),
        detector=strongest,
        details={
            "surprise": round(strength, 3),
            "persistence": round(persistence, 3),
            **{f"surprise_{name}": round(value, 3) for name, value in evidence.items()},
        },
    )


def _first_run(mask: np.ndarray, length: int) -> int | None:
    """Index where the first run of ``length`` consecutive True values starts."""
    if length <= 1:
        hits = np.flatnonzero(mask)
        return int(hits[0]) if hits.size else None
    run = np.convolve(mask.astype(np.int64), np.ones(length, dtype=np.int64), mode="valid")
    full = np.flatnonzero(run == length)
    return int(full[0]) if full.size else None
