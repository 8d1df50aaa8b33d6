"""Reading logs from files, directories and stdin; bad input is skipped and counted."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from knowledge.log_files import MAX_LINE_BYTES, ReadReport, read_logs


def read(paths: list[Path], stdin: bytes = b"") -> tuple[list[str], ReadReport]:
    report = ReadReport()
    lines = list(read_logs(paths, report, io.BytesIO(stdin)))
    return [f"{line.level}|{line.message}" for line in lines], report


def test_plain_json_lines_and_gzip_files_in_a_directory(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("2026-01-02T03:04:05Z ERROR disk full on /var\nplain line\n")
    (tmp_path / "b.jsonl").write_text('{"level": "warn", "msg": "slow query", "ts": 1700000000}\n')
    with gzip.open(tmp_path / "c.log.gz", "wt") as fh:
        fh.write('{"log": "INFO started worker 3\\n", "stream": "stdout"}\n')
    lines, report = read([tmp_path])
    assert lines == [
        "ERROR|disk full on /var",
        "|plain line",
        "WARN|slow query",
        "INFO|started worker 3",
    ]
    assert (report.lines, report.files, sum(report.skipped.values())) == (4, 3, 0)


def test_timestamps_are_read_from_json_and_iso_prefixes(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text(
        '{"message": "a", "time": "2026-01-02T03:04:05.123456789Z"}\n'
        '{"message": "b", "timestamp": 1700000000123}\n'
    )
    report = ReadReport()
    stamps = [line.timestamp for line in read_logs([tmp_path / "x.jsonl"], report)]
    assert stamps[0] > 1.7e9 and abs(stamps[1] - 1700000000.123) < 1e-3


def test_stdin_is_read_with_a_dash() -> None:
    lines, report = read([Path("-")], b"WARN cache at 91%\n")
    assert lines == ["WARN|cache at 91%"] and report.files == 1


def test_bad_input_is_skipped_with_a_count_and_a_warning(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "archive.zip").write_bytes(b"PK\x03\x04rest-of-zip")
    (tmp_path / "mixed.log").write_bytes(
        b"good one\n"
        b"bin\x00ary\n"
        b"caf\xe9 latin-1\n"
        + b"x" * (MAX_LINE_BYTES + 1)
        + b"\n"
        + b'{"broken json\n'
        + b"good two\n"
    )
    lines, report = read([tmp_path, tmp_path / "missing.log"])
    assert lines == ["|good one", "|good two"]
    assert report.skipped == {
        "empty file": 1,
        "unknown format": 1,
        "binary line": 1,
        "non-UTF-8 line": 1,
        "line over 64 KiB": 1,
        "unparseable JSON": 1,
        "missing path": 1,
    }
    assert len(report.warnings) == 7
    assert "skipped 1 binary line" in report.summary()
