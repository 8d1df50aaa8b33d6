"""Scoring a detector on a directory in NAB's layout, exactly as NAB scores: run it over every
file, pick one threshold per cost profile for the whole corpus, normalise to null = 0,
perfect = 100. The command (`medic eval nab`) is in :mod:`bot.cli.eval`; this module knows no
terminal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, InputError
from detectors import EnsembleConfig
from detectors.evaluation.scorer import CorpusScore


@dataclass(frozen=True)
class NabEvaluation:
    """One detector on one corpus: its score under each profile asked for."""

    detector: str
    files: int
    rows: int
    scores: tuple[CorpusScore, ...]
    seconds: float
    results_dir: Path | None = None  # where NAB's results layout was written, if asked

    def summary(self) -> dict[str, Any]:
        """The JSON object `medic eval nab` ends with."""
        return {
            "detector": self.detector,
            "files": self.files,
            "scores": {s.profile: round(s.normalized, 2) for s in self.scores},
            "thresholds": {s.profile: s.threshold for s in self.scores},
            "seconds": round(self.seconds, 2),
        }


def evaluate_nab(
    data: Path,
    detector: str,
    ensemble: EnsembleConfig,
    *,
    profile: str | None,
    jobs: int,
    write_results: Path | None,
    progress: Callable[[str], None],
) -> NabEvaluation:
    """Score ``detector`` (ensemble: the configured ``ensemble``; one detector; or a baseline)
    on the corpus at ``data``, under ``profile`` or every profile of the corpus. ``progress``
    hears one line per file scored. A malformed corpus or an unknown profile is bad input; an
    unknown detector is a configuration error."""
    import time

    from detectors.errors import DetectorConfigError, NabCorpusError
    from detectors.evaluation import load_corpus
    from detectors.evaluation.runner import FileRun, run_detector, score_profiles
    from detectors.evaluation.runner import write_results as write_nab_results

    started = time.perf_counter()
    try:
        corpus = load_corpus(data)
        profiles = [corpus.profile(profile)] if profile else list(corpus.profiles)
        done = 0

        def report(run: FileRun) -> None:
            nonlocal done
            done += 1
            progress(
                f"[{done}/{len(corpus)}] {run.name} ({run.scores.size} rows, {run.seconds:.1f} s)"
            )

        scores = run_detector(corpus, detector, ensemble, jobs, report)
    except NabCorpusError as exc:
        raise InputError(str(exc)) from exc
    except DetectorConfigError as exc:
        raise ConfigError(str(exc)) from exc
    results = score_profiles(corpus, scores)
    where = None
    if write_results is not None:
        where = write_nab_results(write_results, detector, corpus, scores)
    return NabEvaluation(
        detector=detector,
        files=len(corpus),
        rows=corpus.rows,
        scores=tuple(results[p.name] for p in profiles),
        seconds=time.perf_counter() - started,
        results_dir=where,
    )
