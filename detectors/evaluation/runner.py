"""Running a detector over a NAB corpus: per-file scores (in parallel), the three profile scores,
and NAB's results layout for checking with NAB's own scorer."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from detectors.ensemble import DETECTORS, EnsembleConfig, score_series
from detectors.errors import DetectorConfigError
from detectors.evaluation.baselines import null_scores, windowed_gaussian_scores
from detectors.evaluation.corpus import NabCorpus, NabFile
from detectors.evaluation.scorer import CorpusScore, score_corpus
from detectors.series import FloatArray

ENSEMBLE = "ensemble"
BASELINES: dict[str, Callable[[FloatArray], FloatArray]] = {
    "null": null_scores,
    "windowed_gaussian": windowed_gaussian_scores,
}


def detector_names() -> list[str]:
    return [ENSEMBLE, *DETECTORS, *BASELINES]


@dataclass(frozen=True)
class FileRun:
    name: str
    scores: FloatArray
    seconds: float


def _score_file(task: tuple[str, EnsembleConfig, NabFile]) -> FileRun:
    detector, config, file = task
    started = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):  # files run in parallel, not products
        scores = _scores(detector, config, file)
    return FileRun(file.name, scores, time.perf_counter() - started)


def _scores(detector: str, config: EnsembleConfig, file: NabFile) -> FloatArray:
    if detector in BASELINES:
        return BASELINES[detector](file.values)
    chosen = config if detector == ENSEMBLE else config.only(detector)
    return score_series(chosen, file.epoch, file.values, file.probation)


def run_detector(
    corpus: NabCorpus,
    detector: str,
    config: EnsembleConfig,
    jobs: int = 1,
    progress: Callable[[FileRun], None] | None = None,
) -> dict[str, FloatArray]:
    """Scores in [0, 1] for every row of every file; ``progress`` is told as each file finishes."""
    if detector not in detector_names():
        known = ", ".join(detector_names())
        raise DetectorConfigError(f"unknown detector {detector!r} (known: {known})")
    tasks = [(detector, config, f) for f in sorted(corpus.files, key=len, reverse=True)]
    results: dict[str, FloatArray] = {}
    if jobs <= 1:
        runs = map(_score_file, tasks)
        for run in runs:
            results[run.name] = run.scores
            if progress:
                progress(run)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for run in pool.map(_score_file, tasks):
                results[run.name] = run.scores
                if progress:
                    progress(run)
    return results


def score_profiles(corpus: NabCorpus, scores: dict[str, FloatArray]) -> dict[str, CorpusScore]:
    return {p.name: score_corpus(corpus, scores, p) for p in corpus.profiles}


def write_results(
    out: Path, detector: str, corpus: NabCorpus, scores: dict[str, FloatArray]
) -> Path:
    """NAB's layout: ``out/<detector>/<category>/<detector>_<file>.csv`` with
    ``timestamp,value,anomaly_score,label``."""
    for file in corpus.files:
        category, name = file.name.split("/", 1)
        path = out / detector / category / f"{detector}_{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value", "anomaly_score", "label"])
            for stamp, value, score, label in zip(
                file.stamps, file.values, scores[file.name], file.labels(), strict=True
            ):
                writer.writerow([stamp, repr(float(value)), repr(float(score)), int(label)])
    return out / detector
