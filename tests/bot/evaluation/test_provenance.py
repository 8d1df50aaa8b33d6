"""What a logged evaluation's numbers depend on: the data digest must name the same data the same
way on any machine and tell other data apart, within bounds; the code version is the checkout's
commit, or the package's version outside a checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.evaluation.provenance import code_version, config_digest, data_digest
from bot.evaluation.tracking import EvaluationRun, metrics_of, params_of

ROOT = Path(__file__).resolve().parents[3]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_same_files_written_in_another_order_have_the_same_digest(tmp_path: Path) -> None:
    files = {"data/b.csv": "1,2\n", "data/a.csv": "3,4\n", "labels.json": "{}"}
    one = write(tmp_path / "one", files)
    two = write(tmp_path / "two", dict(reversed(files.items())))
    (two / "data" / "__pycache__").mkdir()
    (two / "data" / "__pycache__" / "x.pyc").write_bytes(b"\x00compiled")
    assert data_digest([one]) == data_digest([two])
    assert data_digest([one]).files == 3 and not data_digest([one]).partial


def test_a_changed_value_a_renamed_file_or_a_moved_byte_change_the_digest(tmp_path: Path) -> None:
    base = data_digest([write(tmp_path / "a", {"x.csv": "1,2\n", "y.csv": "3\n"})]).sha256
    changed = data_digest([write(tmp_path / "b", {"x.csv": "1,3\n", "y.csv": "3\n"})]).sha256
    renamed = data_digest([write(tmp_path / "c", {"z.csv": "1,2\n", "y.csv": "3\n"})]).sha256
    moved = data_digest([write(tmp_path / "d", {"x.csv": "1,2\n3", "y.csv": "\n"})]).sha256
    assert len({base, changed, renamed, moved}) == 4


def test_past_its_bounds_the_digest_says_it_is_partial(tmp_path: Path) -> None:
    root = write(tmp_path / "big", {f"f{i:02}.csv": "x" * 100 for i in range(20)})
    by_bytes = data_digest([root], max_bytes=1000)
    assert by_bytes.partial and by_bytes.files == 20 and by_bytes.bytes == 1000
    by_files = data_digest([root], max_files=5)
    assert by_files.partial and by_files.files == 5
    assert not data_digest([root]).partial


def test_the_code_version_is_the_checkouts_commit_else_the_package_version(
    tmp_path: Path,
) -> None:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, check=True
    )
    here = code_version(ROOT)
    assert here.commit == here.version == head.stdout.decode().strip()
    assert here.dirty is not None
    elsewhere = code_version(tmp_path)  # not a checkout: an installed medic
    assert elsewhere.commit is None and elsewhere.version.startswith("medic ")


def test_the_configuration_digest_follows_the_values_not_their_order() -> None:
    assert config_digest({"a": 1, "b": {"c": 2}}) == config_digest({"b": {"c": 2}, "a": 1})
    assert config_digest({"a": 1, "b": {"c": 2}}) != config_digest({"a": 1, "b": {"c": 3}})


def test_metrics_are_the_finite_numbers_of_the_line_bounded() -> None:
    line = {
        "scores": {"standard": 92.3, "odd key<>": 1},
        "rows": [{"rank": 2}, {"rank": None}],
        "ok": True,
        "name": "ensemble",
        "nan": float("nan"),
        "many": list(range(1000)),
    }
    metrics, count = metrics_of(line)
    assert list(metrics)[:3] == ["scores.standard", "scores.odd key__", "rows.0.rank"]
    assert "ok" not in metrics and "nan" not in metrics and "name" not in metrics
    assert len(metrics) == 500 and count == 1003


def test_hostile_params_are_one_bounded_line_each() -> None:
    run = EvaluationRun(
        "nab",
        {"data": "a\nb\x1b[2J" + "y" * 10_000, "names": ["x", "y"], "unset": None},
        {f"k{i}": i for i in range(1000)},
        [],
    )
    params, count = params_of(run)
    assert params["option.data"].startswith("a\\nb\\x1b[2J") and len(params["option.data"]) <= 500
    assert params["option.names"] == "x,y" and "option.unset" not in params
    assert len(params) == 300 and count == 1002
