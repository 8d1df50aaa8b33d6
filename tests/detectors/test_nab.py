"""NAB scoring as SCORING.md describes it, checked against a plain transcription of the
description and (when the benchmark data is present) against NAB's own published results."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from detectors import DEFAULT_ENSEMBLE, NabCorpusError
from detectors.evaluation import DEFAULT_PROFILES, NabCorpus, Profile, load_corpus, score_corpus
from detectors.evaluation.baselines import windowed_gaussian_scores
from detectors.evaluation.runner import run_detector, write_results
from detectors.evaluation.scorer import score_file, threshold_for
from tests.detectors.nab_fixtures import spiky_corpus, stamp, write_corpus, write_file

REPO = Path(__file__).resolve().parents[2]
BENCH = next(
    (
        p
        for p in (REPO.parent / "shared", REPO.parent.parent / "shared")
        if (p / "bench-data").is_dir()
    ),
    None,
)
NAB = BENCH / "bench-data" / "nab" if BENCH else None


def sigma(y: float) -> float:
    return -1.0 if y > 3.0 else 2 / (1 + math.exp(5 * y)) - 1


def reference_total(
    corpus: NabCorpus, scores: dict[str, np.ndarray], p: Profile, theta: float
) -> float:
    """SCORING.md sections 3 to 6, row by row."""
    total = 0.0
    for f in corpus.files:
        n, probation = len(f), min(math.floor(0.15 * len(f)), 750)
        best: dict[int, float] = {}
        previous: tuple[int, int] | None = None
        for i in range(n):
            inside = [k for k, (a, b) in enumerate(f.windows) if a <= i <= b]
            if inside:
                a, b = f.windows[inside[0]]
                worth = p.tp_weight * sigma(-(b - i + 1) / (b - a + 1)) / sigma(-1.0)
            elif previous is None:
                worth = -p.fp_weight
            else:
                worth = p.fp_weight * sigma(abs(previous[1] - i) / (previous[1] - previous[0]))
            if i >= probation:
                if inside:
                    best.setdefault(inside[0], -p.fn_weight)
                    if scores[f.name][i] >= theta:
                        best[inside[0]] = max(best[inside[0]], worth)
                elif scores[f.name][i] >= theta:
                    total += worth
            ends = [w for w in f.windows if w[1] == i]
            previous = ends[0] if ends else previous
        total += sum(best.values())
    return total


@pytest.mark.parametrize("seed", range(4))
def test_threshold_and_total_match_the_description(tmp_path: Path, seed: int) -> None:
    corpus = load_corpus(spiky_corpus(tmp_path, seed))
    rng = np.random.default_rng(seed)
    scores = {f.name: np.round(rng.random(len(f)) ** 8, 2) for f in corpus.files}
    for profile in DEFAULT_PROFILES:
        result = score_corpus(corpus, scores, profile)
        candidates = sorted({1.1, *np.concatenate(list(scores.values())).tolist()}, reverse=True)
        totals = [reference_total(corpus, scores, profile, c) for c in candidates]
        best = max(totals)
        assert result.raw == pytest.approx(best, abs=1e-9)
        assert (
            result.threshold
            == candidates[next(i for i, t in enumerate(totals) if t >= best - 1e-9)]
        )


def test_null_scores_zero_and_perfect_scores_hundred(tmp_path: Path) -> None:
    corpus = load_corpus(spiky_corpus(tmp_path))
    null = {f.name: np.full(len(f), 0.5) for f in corpus.files}
    perfect = {
        f.name: np.isin(np.arange(len(f)), [a for a, _ in f.windows]).astype(float)
        for f in corpus.files
    }
    for profile in DEFAULT_PROFILES:
        assert score_corpus(corpus, null, profile).normalized == pytest.approx(0.0)
        assert score_corpus(corpus, perfect, profile).normalized == pytest.approx(100.0)


def test_earliest_detection_earns_the_full_weight_and_late_ones_less(tmp_path: Path) -> None:
    corpus = load_corpus(spiky_corpus(tmp_path))
    f = corpus.files[0]
    (a, b) = f.windows[0]
    profile = DEFAULT_PROFILES[0]
    early, late = np.zeros(len(f)), np.zeros(len(f))
    early[a], late[b] = 1.0, 1.0
    assert score_file(f, early, profile, 1.0).score == pytest.approx(1.0)
    assert 0 < score_file(f, late, profile, 1.0).score < 0.1


def test_the_ensemble_finds_obvious_spikes(tmp_path: Path) -> None:
    corpus = load_corpus(spiky_corpus(tmp_path))
    scores = run_detector(corpus, "ensemble", DEFAULT_ENSEMBLE)
    assert score_corpus(corpus, scores, DEFAULT_PROFILES[0]).normalized > 80


def test_results_layout_can_be_read_back(tmp_path: Path) -> None:
    corpus = load_corpus(spiky_corpus(tmp_path / "corpus"))
    scores = run_detector(corpus, "null", DEFAULT_ENSEMBLE)
    out = write_results(tmp_path / "results", "null", corpus, scores)
    path = out / "catA" / "null_one.csv"
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
    assert len(rows) == 1200 and rows[0]["timestamp"] == stamp(0)
    assert sum(int(r["label"]) for r in rows) == 81


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        (
            lambda r: (r / "data" / "catA" / "one.csv").write_text("time,val\n1,2\n"),
            "catA/one.csv: the header",
        ),
        (
            lambda r: (r / "data" / "catA" / "one.csv").write_text(
                "timestamp,value\n2024-01-01 00:00:00,x\n"
            ),
            "one.csv, line 2",
        ),
        (lambda r: (r / "labels" / "combined_windows.json").write_text("{"), "not valid JSON"),
        (lambda r: (r / "labels" / "combined_windows.json").unlink(), "cannot read labels file"),
        (lambda r: write_file(r, "catC/extra.csv", np.ones(10)), "catC/extra.csv: no entry"),
        (lambda r: (r / "data" / "catB" / "quiet.csv").unlink(), "lists catB/quiet.csv"),
        (
            lambda r: (r / "config").mkdir() or (r / "config" / "profiles.json").write_text("[]"),
            "profiles file",
        ),
    ],
)
def test_malformed_directories_name_the_file(tmp_path: Path, breakage, problem: str) -> None:  # type: ignore[no-untyped-def]
    root = spiky_corpus(tmp_path)
    breakage(root)
    with pytest.raises(NabCorpusError, match=problem):
        load_corpus(root)


def test_window_boundary_must_be_a_timestamp_of_the_file(tmp_path: Path) -> None:
    root = write_corpus(tmp_path, {"c/f.csv": (np.ones(50), [(10, 20)])})
    labels = json.loads((root / "labels" / "combined_windows.json").read_text())
    labels["c/f.csv"][0][1] = "1999-01-01 00:00:00.000000"
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels))
    with pytest.raises(NabCorpusError, match=r"f\.csv: window boundary 1999-01-01"):
        load_corpus(root)


def test_missing_data_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(NabCorpusError, match=f"{tmp_path / 'data'} is not a directory"):
        load_corpus(tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(NAB is None, reason="benchmark data not present (../shared/bench-data)")
def test_reproduces_upstream_per_file_results_of_windowed_gaussian() -> None:
    """NAB's windowedGaussian, re-run here, scored by our scorer at NAB's published threshold,
    gives the per-file scores and counts of NAB's own summary tables."""
    assert NAB is not None
    corpus = load_corpus(NAB)
    scores = {f.name: windowed_gaussian_scores(f.values) for f in corpus.files}
    for profile in corpus.profiles:
        table = NAB / "results" / "summary_scores" / f"windowedGaussian_{profile.name}_scores.csv"
        published = {
            r["File"]: r
            for r in csv.DictReader(table.open())
            if r["File"] in {f.name for f in corpus.files}
        }
        for f in corpus.files:
            row = published[f.name]
            ours = score_file(f, scores[f.name], profile, float(row["Threshold"]))
            assert ours.score == pytest.approx(float(row["Score"]), abs=1e-6), f.name
            assert (ours.tp, ours.tn, ours.fp, ours.fn) == tuple(
                int(row[k]) for k in ("TP", "TN", "FP", "FN")
            )


def test_a_threshold_fitted_on_some_files_is_the_one_nab_picks_on_them(tmp_path: Path) -> None:
    corpus = load_corpus(spiky_corpus(tmp_path))
    rng = np.random.default_rng(5)
    scores = {f.name: np.round(rng.random(len(f)) ** 6, 3) for f in corpus.files}
    some = corpus.files[:2]
    subset = replace(corpus, files=some, window_count=sum(len(f.windows) for f in some))
    for profile in DEFAULT_PROFILES:
        expected = score_corpus(subset, scores, profile).threshold
        assert threshold_for(some, scores, profile) == expected
