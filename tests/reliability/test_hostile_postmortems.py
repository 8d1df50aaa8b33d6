"""`medic ingest postmortems` and `medic search` against a postmortem corpus nobody vetted: each
bad line is skipped on its own with a count (the good lines of the same file stay), a line
repeated is stored once, and what search prints of a stored postmortem cannot drive the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import app

runner = CliRunner()
GOOD = {"title": "Disk full on the audit node", "summary": "Audit logs filled the root volume."}
OTHER = {"title": "Resolver outage", "summary": "A typo in the zone file broke every lookup."}


def _ingest(path: Path) -> dict[str, object]:
    result = runner.invoke(app, ["ingest", "postmortems", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def test_hostile_json_lines_are_skipped_one_by_one_and_the_good_ones_kept(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD).encode(),
        b'{"title": "deep", "body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"title": "lone \\ud800 surrogate", "summary": "text \\udfff"}',
        b'{"title": "not \xff\xfe UTF-8", "summary": "bytes"}',
        json.dumps(GOOD).encode(),  # the same record again
        json.dumps(OTHER).encode(),
    ]
    (tmp_path / "pm.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    summary = _ingest(tmp_path / "pm.jsonl")
    assert summary["postmortems"] == 2
    assert summary["skipped"] == {
        "unparseable JSON": 1,
        "invalid Unicode": 1,
        "non-UTF-8 line": 1,
        "duplicate postmortem": 1,
    }
    found = runner.invoke(app, ["search", "audit logs filled the disk", "--json"])
    assert found.exit_code == 0, found.output
    titles = [hit["title"] for hit in json.loads(found.stdout)["hits"]]
    assert titles[0] == GOOD["title"] and titles.count(GOOD["title"]) == 1


def test_search_prints_a_stored_title_without_its_terminal_controls(tmp_path: Path) -> None:
    hostile = {
        "title": "Disk \x1b]0;owned\x07full \u202eevil",
        "summary": "The disk filled \x1b[2J up \x1b[31mred",
        "url": "https://example.com/pm\x1b[8m",
    }
    (tmp_path / "pm.jsonl").write_text(json.dumps(hostile) + "\n")
    _ingest(tmp_path / "pm.jsonl")
    shown = runner.invoke(app, ["search", "disk filled"])
    assert shown.exit_code == 0, shown.output
    assert "Disk \\x1b]0;owned\\x07full \\u202eevil" in shown.stdout
    assert not any(ch in shown.stdout for ch in "\x1b\x07\u202e")


def test_search_answers_when_its_indexes_cannot_be_saved(tmp_path: Path) -> None:
    (tmp_path / "pm.jsonl").write_text(json.dumps(GOOD) + "\n")
    _ingest(tmp_path / "pm.jsonl")
    blocked = tmp_path / "data" / "search"  # where the indexes go: a file is in the way
    blocked.write_text("not a directory")
    found = runner.invoke(app, ["search", "audit logs filled the disk", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["hits"][0]["title"] == GOOD["title"]
    (warning,) = [line for line in found.stderr.splitlines() if line.startswith("warning:")]
    assert "the next search builds them again" in warning


def test_a_huge_markdown_postmortem_is_stored_cut_to_the_bound_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("knowledge.postmortems.MAX_FIELD", 3000)  # 100,000 in use: a fast test
    paragraphs = [f"Paragraph {i}: the audit volume filled up again." * 5 for i in range(400)]
    (tmp_path / "huge.md").write_text("# Disk full\n\n" + "\n\n".join(paragraphs))
    result = runner.invoke(app, ["ingest", "postmortems", str(tmp_path / "huge.md"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["chunks"] <= 1 + 3  # the header, then ~3,000 characters
    assert "only its first 3,000 characters are stored" in result.stderr


def test_a_megabyte_question_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["search", "disk \x1b[2J full " * 60_000])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("medic: search text is") and "\x1b" not in line
