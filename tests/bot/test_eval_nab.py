"""`medic eval nab` as a user runs it: progress on stderr, one JSON object as the last line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli.app import app
from tests.detectors.nab_fixtures import spiky_corpus


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["eval", "nab", *args])
    return result.exit_code, result.stdout, result.stderr


def test_scores_a_corpus_and_ends_with_a_json_summary(tmp_path: Path) -> None:
    root = spiky_corpus(tmp_path / "corpus")
    code, out, err = run("--data", str(root), "--jobs", "1")
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["detector"] == "ensemble" and summary["files"] == 4
    assert set(summary["scores"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    assert summary["scores"]["standard"] > 80
    assert "[4/4]" in err  # progress, one line per file


def test_one_profile_one_detector_and_nab_results_layout(tmp_path: Path) -> None:
    root = spiky_corpus(tmp_path / "corpus")
    out_dir = tmp_path / "results"
    code, out, err = run(
        "--data", str(root), "--detector", "null", "--profile", "standard",
        "--write-results", str(out_dir), "--json", "--jobs", "2",
    )  # fmt: skip
    assert code == 0, err
    assert out.count("\n") == 1  # --json: only the summary
    assert json.loads(out) | {"seconds": 0} == {
        "detector": "null",
        "files": 4,
        "scores": {"standard": 0.0},
        "thresholds": {"standard": 1.1},
        "seconds": 0,
    }
    assert (out_dir / "null" / "catB" / "null_quiet.csv").exists()


def test_malformed_corpus_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    root = spiky_corpus(tmp_path / "corpus")
    (root / "data" / "catA" / "two.csv").write_text("when,what\n")
    code, _, err = run("--data", str(root))
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "catA/two.csv" in err and "header" in err


def test_unknown_detector_or_profile_is_refused(tmp_path: Path) -> None:
    root = spiky_corpus(tmp_path / "corpus")
    code, _, err = run("--data", str(root), "--detector", "oracle")
    assert code == 2 and "unknown detector 'oracle'" in err
    code, _, err = run("--data", str(root), "--profile", "lenient")
    assert code == 2 and "unknown profile 'lenient'" in err
