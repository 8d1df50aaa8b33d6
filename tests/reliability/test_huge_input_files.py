"""Files named to `medic ingest` that hold gigabytes without a newline - a sparse file, a disk
image, ``/dev/zero`` behind a link, a gzip bomb - are read in bounded memory: the endless line is
skipped with a count, the good files beside it are still taken (it was read whole: a
``MemoryError`` traceback, or gigabytes of memory)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli.app import app
from knowledge.errors import CorpusError
from knowledge.evaluation.fault_data import read_logs
from knowledge.log_files import ReadReport
from knowledge.postmortems import MAX_FIELD, read_postmortems
from tests.reliability.hostile_input import PEAK_BYTES, measured

runner = CliRunner()
HUGE = 128 * 2**20  # zeros, no newline: a sparse file costs no disk, twice the memory bound


def _sparse(path: Path, size: int = HUGE) -> Path:
    with path.open("wb") as file:
        os.truncate(file.fileno(), size)
    return path


def _invoke_bounded(args: list[str]) -> Result:
    result, cost = measured(lambda: runner.invoke(app, args))
    assert "Traceback" not in result.output and result.exception is None, result.output
    assert cost.peak_bytes < PEAK_BYTES, f"{cost.peak_bytes / 2**20:.0f} MiB read into memory"
    return result


def test_ingest_logs_skips_a_line_of_gigabytes_and_keeps_the_good_files(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2026-12-07T10:00:00Z ERROR disk full on /var\n")
    _sparse(tmp_path / "disk.img.log")
    result = _invoke_bounded(["ingest", "logs", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["lines"], summary["files"]) == (1, 2)
    assert summary["skipped"] == {"line over 64 KiB": 1}


def test_ingest_logs_names_a_device_as_no_regular_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "logs", "/dev/zero", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["skipped"] == {"not a regular file (- reads a pipe)": 1}


def test_ingest_postmortems_refuses_files_of_gigabytes_in_a_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "knowledge.postmortems.MAX_JSON_LINE_BYTES", 2**20, raising=False
    )  # 8 MiB: faster
    _sparse(tmp_path / "huge.jsonl")
    _sparse(tmp_path / "disk.md")
    # loading the model is too costly to trace: the reading's bound is measured below
    result = runner.invoke(app, ["ingest", "postmortems", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["postmortems"] == 0  # was 1: the zeros, stored as a postmortem
    assert summary["skipped"] == {"line over 1 MiB": 1, "binary file": 1}


def test_reading_postmortems_of_gigabytes_costs_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("knowledge.postmortems.MAX_JSON_LINE_BYTES", 2**20, raising=False)
    _sparse(tmp_path / "huge.jsonl")
    big = tmp_path / "big.md"  # text, not zeros: read up to its bound, then cut to MAX_FIELD
    with big.open("wb") as file:
        file.write(b"# Disk full\n\n" + b"the audit volume filled up. " * 40_000)
    report = ReadReport()
    found, cost = measured(lambda: list(read_postmortems(tmp_path, report)))
    assert cost.peak_bytes < PEAK_BYTES, f"{cost.peak_bytes / 2**20:.0f} MiB read into memory"
    assert [p.title for p in found] == ["Disk full"] and len(found[0].text) == MAX_FIELD
    assert report.skipped == {"line over 1 MiB": 1}


@pytest.mark.parametrize(
    ("command", "corpus_file"),
    [
        ("rca", "incidents_trainticket.jsonl"),
        ("templates", "HDFS/HDFS_2k.log_structured.csv"),
    ],
)
def test_an_evaluation_refuses_a_corpus_file_of_gigabytes_in_one_line(
    tmp_path: Path, command: str, corpus_file: str
) -> None:
    path = tmp_path / corpus_file
    path.parent.mkdir(parents=True, exist_ok=True)
    _sparse(path)
    result = runner.invoke(app, ["eval", command, "--data", str(tmp_path)])  # memory: below
    assert result.exit_code == 2, result.output
    assert result.stderr == f"medic: {path}:1: a line over 16 MiB: not a corpus file\n"


def test_a_gzip_bomb_among_the_nezha_logs_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"\0" * HUGE, compresslevel=1))  # 128 MiB in ~130 KB

    def refused() -> CorpusError:
        with pytest.raises(CorpusError) as info:
            read_logs([bomb])
        return info.value

    error, cost = measured(refused)
    assert cost.peak_bytes < PEAK_BYTES, f"{cost.peak_bytes / 2**20:.0f} MiB read into memory"
    assert str(error) == f"{bomb}:1: a line over 16 MiB: not a corpus file"


def test_a_nezha_directory_without_its_index_is_bad_input_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "rca", "--data", str(tmp_path)])
    assert result.exit_code == 2  # was 1, as for a failure
    assert result.stderr.startswith(f"medic: {tmp_path}/incidents_trainticket.jsonl not found")
