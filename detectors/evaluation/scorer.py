"""NAB scoring, re-implemented from NAB's ``sweeper.py`` and ``optimizer.py``.

Every row gets the value it would be worth if flagged: inside a window a scaled sigmoid of its
position (earliest = the full TP weight), outside a window a false-positive penalty that ramps up
after the preceding window. A window counts its best flagged row, or -FN weight if none; every
flagged row outside windows counts. One threshold per profile is chosen for the whole corpus (the
best raw total; the highest threshold among equals), and the total is normalised so that the null
detector scores 0 and the perfect one 100. Probationary rows are never scored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from detectors.evaluation.corpus import NabCorpus, NabFile
from detectors.evaluation.profiles import Profile
from detectors.series import FloatArray

NO_DETECTION = 1.1  # NAB's starting threshold: above every legal score
FAR_AFTER = 3.0  # beyond 3 window-widths past a window, a false positive costs the full weight
OUTSIDE, PROBATIONARY = -1, -2
NULL_SCORE = 0.5  # the null detector's constant output


def scaled_sigmoid(position: FloatArray) -> FloatArray:
    """NAB's scaled sigmoid: 0.98661 at -1, 0 at 0, -0.98661 at 1, and -1 beyond 3."""
    with np.errstate(over="ignore"):
        value = 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0
    return np.where(position > FAR_AFTER, -1.0, value)


MAX_TP = float(scaled_sigmoid(np.array([-1.0]))[0])


@dataclass(frozen=True)
class FileScore:
    name: str
    score: float
    tp: int
    tn: int
    fp: int
    fn: int


@dataclass(frozen=True)
class CorpusScore:
    """One detector under one profile: the chosen threshold, raw and normalised totals."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    files: tuple[FileScore, ...]

    @property
    def normalized(self) -> float:
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


@dataclass(frozen=True)
class _Rows:
    """The scorable rows of a corpus, concatenated: what each is worth, and its window."""

    worth: FloatArray
    window: np.ndarray  # corpus-wide window id, OUTSIDE or PROBATIONARY
    windows: int  # windows with at least one scorable row


def row_worth(file: NabFile, profile: Profile) -> tuple[FloatArray, np.ndarray]:
    """Per row: the weighted score if flagged, and the index of its window (OUTSIDE, or
    PROBATIONARY for rows that are never scored)."""
    n = len(file)
    index = np.arange(n, dtype=np.float64)
    worth = np.full(n, -profile.fp_weight)  # before any window: the full FP weight
    window = np.full(n, OUTSIDE, dtype=np.int64)
    for k, (left, right) in enumerate(file.windows):
        width = right - left + 1
        inside = slice(left, right + 1)
        position = -(right - index[inside] + 1) / width
        worth[inside] = profile.tp_weight * scaled_sigmoid(position) / MAX_TP
        window[inside] = k
        following = file.windows[k + 1][0] if k + 1 < len(file.windows) else n
        after = slice(right + 1, following)
        distance = np.abs(right - index[after])
        position = distance / (width - 1) if width > 1 else np.full_like(distance, np.inf)
        worth[after] = profile.fp_weight * scaled_sigmoid(position)
    window[: file.probation] = PROBATIONARY
    return worth, window


def _rows(files: Sequence[NabFile], profile: Profile) -> _Rows:
    worths, windows = [], []
    offset = 0
    for file in files:
        worth, window = row_worth(file, profile)
        window = np.where(window >= 0, window + offset, window)
        offset += len(file.windows)
        worths.append(worth)
        windows.append(window)
    window = np.concatenate(windows)
    scored = np.unique(window[window >= 0]).size
    return _Rows(np.concatenate(worths), window, scored)


def threshold_curve(
    scores: FloatArray, rows: _Rows, fn_weight: float
) -> tuple[FloatArray, FloatArray]:
    """Raw corpus totals for every candidate threshold, highest threshold first (NAB's sweep)."""
    keep = rows.window != PROBATIONARY
    score, worth, window = scores[keep], rows.worth[keep], rows.window[keep]
    order = np.argsort(-score, kind="stable")
    score, worth, window = score[order], worth[order], window[order]
    delta = np.where(window == OUTSIDE, worth, 0.0)
    inside = np.flatnonzero(window >= 0)
    if inside.size:
        grouped = inside[np.argsort(window[inside], kind="stable")]  # by window, score order kept
        group = window[grouped]
        rank = np.cumsum(np.append(True, group[1:] != group[:-1])) - 1
        span = 2.0 * float(np.max(np.abs(worth[grouped]))) + 2.0 * fn_weight + 1.0
        # the running best of each window, its first detection replacing the -FN it started at
        best = np.maximum.accumulate(worth[grouped] + rank * span) - rank * span
        first = np.append(True, group[1:] != group[:-1])
        delta[grouped] = best - np.where(first, -fn_weight, np.roll(best, 1))
    totals = -fn_weight * rows.windows + np.cumsum(delta)
    last_of_value = np.append(score[1:] != score[:-1], True)
    thresholds = np.concatenate([[NO_DETECTION], score[last_of_value]])
    return thresholds, np.concatenate([[-fn_weight * rows.windows], totals[last_of_value]])


def best_threshold(scores: FloatArray, rows: _Rows, fn_weight: float) -> tuple[float, float]:
    """The threshold with the best raw total, and that total."""
    thresholds, totals = threshold_curve(scores, rows, fn_weight)
    # Sums in another order than NAB's differ in the last bits; ties go to the higher threshold.
    best = int(np.argmax(np.round(totals, 9)))
    return float(thresholds[best]), float(totals[best])


def threshold_for(
    files: Sequence[NabFile], scores: Mapping[str, FloatArray], profile: Profile
) -> float:
    """The one threshold NAB chooses for ``profile`` on these files (as ``score_corpus`` does on a
    whole corpus): to fit a threshold on some files and score others with it."""
    rows = _rows(files, profile)
    ordered = np.concatenate([np.asarray(scores[f.name], dtype=np.float64) for f in files])
    threshold, _ = best_threshold(ordered, rows, profile.fn_weight)
    return threshold


def scored_windows(file: NabFile) -> int:
    """Windows with at least one row after the probationary period (the ones NAB scores)."""
    return sum(1 for _, right in file.windows if right >= file.probation)


def score_file(file: NabFile, scores: FloatArray, profile: Profile, threshold: float) -> FileScore:
    worth, window = row_worth(file, profile)
    scored = window != PROBATIONARY
    flagged = (scores >= threshold) & scored
    inside = window >= 0
    total = float(np.sum(worth[flagged & ~inside]))
    for k in np.unique(window[inside]):
        hits = flagged & (window == k)
        total += float(np.max(worth[hits])) if hits.any() else -profile.fn_weight
    return FileScore(
        name=file.name,
        score=total,
        tp=int(np.sum(flagged & inside)),
        tn=int(np.sum(~flagged & scored & ~inside)),
        fp=int(np.sum(flagged & ~inside)),
        fn=int(np.sum(~flagged & inside)),
    )


def score_corpus(
    corpus: NabCorpus, scores: Mapping[str, FloatArray], profile: Profile
) -> CorpusScore:
    """Score a detector's per-row outputs (one array per file name, values in [0, 1])."""
    ordered = []
    for file in corpus.files:
        values = np.asarray(scores[file.name], dtype=np.float64)
        if values.shape != (len(file),):
            raise ValueError(f"{file.name}: {values.size} scores for {len(file)} rows")
        ordered.append(values)
    rows = _rows(corpus.files, profile)
    threshold, _ = best_threshold(np.concatenate(ordered), rows, profile.fn_weight)
    files = tuple(
        score_file(file, values, profile, threshold)
        for file, values in zip(corpus.files, ordered, strict=True)
    )
    # NAB's zero point is the null detector's own optimised score, computed the same way.
    _, null_total = best_threshold(np.full(rows.worth.size, NULL_SCORE), rows, profile.fn_weight)
    return CorpusScore(
        profile=profile.name,
        threshold=threshold,
        raw=math.fsum(f.score for f in files),
        null=null_total,
        perfect=profile.tp_weight * corpus.window_count,
        files=files,
    )
