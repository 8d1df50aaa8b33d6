"""NAB under the generalisation protocol: pooled file tallies are NAB's own score, a held-out
category is scored at the threshold chosen without it, and replayed configurations score exactly
as the evaluation command does."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.generalization import nab
from benchmarks.generalization.protocol import nested
from detectors import DEFAULT_ENSEMBLE
from detectors.evaluation import load_corpus, score_corpus
from detectors.evaluation.runner import run_detector
from detectors.evaluation.scorer import score_file, threshold_for
from tests.detectors.nab_fixtures import write_corpus


def corpus_root(tmp_path: Path) -> Path:
    """Three categories of spiky files (one without anomalies), in bench-data's layout."""
    rng = np.random.default_rng(7)
    files = {}
    for k, name in enumerate(["a/one.csv", "a/two.csv", "b/three.csv", "c/four.csv"]):
        values = 50 + rng.normal(0, 1, 1200)
        at = 600 + 120 * k
        values[at] = 60.0 + 20 * k
        files[name] = (values, [(at - 40, at + 40)])
    files["c/quiet.csv"] = (50 + rng.normal(0, 1, 900), [])
    write_corpus(tmp_path / "nab", files)
    return tmp_path


def test_pooled_file_tallies_are_nabs_normalised_score(tmp_path: Path) -> None:
    setup = nab.setup(corpus_root(tmp_path))
    corpus = load_corpus(tmp_path / "nab")
    for profile in setup.profiles:
        method = setup.method("default", DEFAULT_ENSEMBLE, profile)
        files = list(setup.files)
        pooled = nab.nab_score(method.outcomes(method.fit(files), files))
        assert pooled == pytest.approx(score_corpus(corpus, method.scores, profile).normalized)


def test_a_held_out_category_is_scored_at_the_threshold_chosen_without_it(
    tmp_path: Path,
) -> None:
    setup = nab.setup(corpus_root(tmp_path))
    profile = setup.profiles[0]
    method = setup.method("default", DEFAULT_ENSEMBLE, profile)
    estimate = nested([method], setup.groups, nab.nab_score)
    for fold in estimate.folds:
        held = setup.groups[fold.group]
        rest = [f for f in setup.files if f.category != fold.group]
        threshold = threshold_for(rest, method.scores, profile)
        raw = math.fsum(
            score_file(f, method.scores[f.name], profile, threshold).score for f in held
        )
        expected = nab.nab_score(method.outcomes(threshold, held))
        assert fold.outer_score == pytest.approx(expected)
        assert math.fsum(t.raw for t in method.outcomes(threshold, held)) == pytest.approx(raw)


def test_replayed_configurations_score_as_medic_eval_nab_does(tmp_path: Path) -> None:
    setup = nab.setup(corpus_root(tmp_path))
    corpus = load_corpus(tmp_path / "nab")
    evaluated = run_detector(corpus, "ensemble", DEFAULT_ENSEMBLE)
    replayed = setup.cache.scores(DEFAULT_ENSEMBLE)
    for name, scores in evaluated.items():
        assert replayed[name].tolist() == scores.tolist()
    alone = setup.cache.scores(DEFAULT_ENSEMBLE.only("rarity"))
    assert alone.keys() == evaluated.keys()


def test_shifted_view_labels_the_onset_and_raises_what_follows_by_the_files_spread(
    tmp_path: Path,
) -> None:
    for f in load_corpus(corpus_root(tmp_path) / "nab").files:
        view = nab.shifted_view(f)
        assert view.category == f.category and view.name != f.name
        (added,) = set(view.windows) - set(f.windows)
        lift = view.values - f.values
        onset = int(np.flatnonzero(lift)[0])
        assert added[0] <= onset <= added[1] and onset >= f.probation
        assert not any(left <= onset <= right for left, right in f.windows)
        assert np.allclose(lift[onset:], nab.spread(f.values[: f.probation]))


def test_trending_view_ends_one_spread_higher_with_the_same_windows(tmp_path: Path) -> None:
    for f in load_corpus(corpus_root(tmp_path) / "nab").files:
        view = nab.trending_view(f)
        lift = view.values - f.values
        assert view.windows == f.windows
        assert np.all(lift[: f.probation + 1] == 0) and np.all(np.diff(lift) >= 0)
        assert lift[-1] == pytest.approx(nab.spread(f.values[: f.probation]))


def test_a_per_series_level_that_changes_nothing_replays_the_default_exactly(
    tmp_path: Path,
) -> None:
    setup = nab.setup(corpus_root(tmp_path))
    default = setup.cache.scores(DEFAULT_ENSEMBLE)
    unchanged = nab.leveled_scores(setup.cache, DEFAULT_ENSEMBLE, lambda c, _: c)
    assert {n: s.tolist() for n, s in unchanged.items()} == {
        n: s.tolist() for n, s in default.items()
    }
