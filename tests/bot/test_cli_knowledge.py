"""The knowledge commands as a user runs them: eval commands on small synthetic data sets written
here (not copies of benchmark data), ingest and search, errors as one line with exit code 2."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli.app import app

runner = CliRunner()
START = datetime(2030, 5, 1, 10, 0, tzinfo=UTC).timestamp()
PODS = {
    "ts-a-service": "ts-a-service-5d4f8b7c9-abcde",
    "ts-b-service": "ts-b-service-6c7d8e9f1-fghij",
}


def _gz_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(gzip.compress(text.getvalue().encode()))


def _log_rows(minute: float, errors_in: str | None) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(40):
        for service, pod in PODS.items():
            message = (
                f"12:00:00.000 INFO  c.Svc#10 TraceID: {i:032x} SpanID: {i:016x} [get][ok id={i}]\n"
            )
            if service == errors_in and i % 3 == 0:
                message = (
                    f"12:00:00.000 ERROR c.Svc#99 TraceID: {i:032x} SpanID: {i:016x} "
                    f"[get][failed: NullPointerException at step {i}]\n"
                )
            ts = minute + i
            log = json.dumps({"log": message, "stream": "stdout"})
            rows.append([ts, int(ts * 1e9), "node", pod, "server", f"{i:032x}", f"{i:016x}", log])
    rows.append(
        [minute, int(minute * 1e9), "node", PODS["ts-a-service"], "server", "", "", "{broken"]
    )
    return rows


def write_nezha(root: Path) -> None:
    """Three incidents: two exceptions in ts-a (errors in its logs), one CPU fault in ts-b."""
    faults = [
        ("ts-a-service", "exception", 0),
        ("ts-a-service", "exception", 1),
        ("ts-b-service", "cpu_contention", 2),
    ]
    index = []
    _gz_csv(root / "free" / "log.csv.gz", HEADER, _log_rows(START - 600, None))
    for number, (service, fault, slot) in enumerate(faults):
        inject = START + 1200 * (slot + 1)
        files = []
        for minute in range(3):
            name = f"fault/{number}_{minute}.csv.gz"
            _gz_csv(
                root / name,
                HEADER,
                _log_rows(inject + 60 * minute, service if fault == "exception" else None),
            )
            files.append(name)
        index.append(
            {
                "incident_id": f"syn-{number}",
                "inject_time": datetime.fromtimestamp(inject, UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "root_cause_service": service,
                "fault_type": fault,
                "log_files": files,
                "fault_free_log": ["free/log.csv.gz"],
                "metric_dir": "metric/",
            }
        )
    cpu_fault = START + 1200 * 3
    for service, pod in PODS.items():
        rows = []
        for minute in range(0, 80):
            ts = START + 60 * minute
            busy = service == "ts-b-service" and cpu_fault <= ts < cpu_fault + 180
            rows.append(["t", int(ts), pod, 95.0 if busy else 20.0 + (minute % 3)])
        _gz_csv(
            root / "metric" / f"{pod}_metric.csv.gz",
            ["Time", "TimeStamp", "PodName", "CpuUsageRate(%)"],
            rows,
        )
    (root / "incidents_trainticket.jsonl").write_text(
        "\n".join(json.dumps(i) for i in index) + "\n"
    )


HEADER = ["Timestamp", "TimeUnixNano", "Node", "PodName", "Container", "TraceID", "SpanID", "Log"]


@pytest.mark.slow
def test_eval_rca_ranks_the_faulty_service_and_retrieves_its_twin(tmp_path: Path) -> None:
    write_nezha(tmp_path / "nezha")
    result = runner.invoke(app, ["eval", "rca", "--data", str(tmp_path / "nezha")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["incidents"] == 3
    assert summary["localization"]["as@1"] == 1.0
    # the live defaults: every service's logs, within the line budget
    assert summary["localization_screened"] == {
        "as@1": 1.0,
        "as@3": 1.0,
        "as@5": 1.0,
        "log_candidates": 50,
        "max_log_lines": 50_000,
    }
    assert summary["retrieval"]["queries"] == 2
    assert summary["retrieval"]["hit@1"] == 1.0
    assert set(summary["baseline_tfidf_retrieval"]) == {"queries", "hit@1", "hit@3", "mrr"}
    # the live path against each history a deployment may have
    assert set(summary["history_modes"]) == {"fresh", "earlier_only", "leave_one_out"}
    assert "localization_timed" not in summary  # the time for logs emulated only when asked


@pytest.mark.slow
def test_eval_rca_screened_reads_the_logs_of_as_many_as_asked(tmp_path: Path) -> None:
    """``--log-candidates`` sets the screened view's reading (what it misses without logs is
    tested in tests/knowledge/test_rca_screen.py); each incident's line shows both ranks."""
    write_nezha(tmp_path / "nezha")
    result = runner.invoke(
        app, ["eval", "rca", "--data", str(tmp_path / "nezha"), "--log-candidates", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "syn-2: ts-b-service (cpu_contention) ranked 1, screened 1, " in result.stdout
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["localization"]["as@1"] == 1.0
    assert summary["localization_screened"]["log_candidates"] == 0


def test_eval_templates_scores_each_system_against_default_drain3(tmp_path: Path) -> None:
    rows = {
        "Alpha": [("VM Paused", "E1"), ("VM Resumed", "E2"), ("VM Paused", "E1")]
        + [(f"took {i} ms to serve /api/v1/items/{i}", "E3") for i in range(6)],
        "Beta": [(f"user u{i} logged in from 10.0.0.{i}", "E1") for i in range(5)]
        + [("", "E9"), ("disk full", "")],  # an empty content, a line without ground truth
    }
    for system, lines in rows.items():
        (tmp_path / system).mkdir()
        with (tmp_path / system / f"{system}_2k.log_structured.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["LineId", "Content", "EventId", "EventTemplate"])
            writer.writerows([i, content, event, ""] for i, (content, event) in enumerate(lines))
    result = runner.invoke(app, ["eval", "templates", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["systems"] == {"Alpha": 1.0, "Beta": 1.0}
    assert summary["baseline_drain3_default"]["systems"]["Alpha"] < 1.0  # merges Paused/Resumed


@pytest.mark.parametrize("command", [["eval", "rca"], ["eval", "templates"]])
def test_eval_without_data_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--data", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"medic: --data {tmp_path / 'nothing'} is not a directory"


def test_ingest_logs_reports_what_it_skipped(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(
        b"ERROR db timeout after 30 s\nbin\x00ary\nERROR db timeout after 31 s\n"
    )
    result = runner.invoke(app, ["ingest", "logs", str(tmp_path / "app.log"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # --json: the JSON alone on stdout
    assert (summary["lines"], summary["templates"], summary["skipped"]) == (
        2,
        1,
        {"binary line": 1},
    )
    assert "binary line, skipped" in result.stderr


def test_corrupted_template_state_points_to_repair_which_fixes_it(tmp_path: Path) -> None:
    data = Path(str(tmp_path / "data"))
    data.mkdir()
    (data / "drain3_state.bin").write_bytes(b"garbage")
    (tmp_path / "app.log").write_text("INFO hello\n")
    broken = runner.invoke(app, ["ingest", "logs", str(tmp_path / "app.log")])
    assert broken.exit_code == 1 and "medic knowledge repair" in broken.stderr
    assert runner.invoke(app, ["knowledge", "repair"]).exit_code == 0
    assert runner.invoke(app, ["ingest", "logs", str(tmp_path / "app.log")]).exit_code == 0
    assert len(list(data.glob("drain3_state.bin.broken-*"))) == 1


def test_a_broken_template_choice_file_is_moved_aside_by_repair_and_the_state_kept(
    tmp_path: Path,
) -> None:
    data = Path(str(tmp_path / "data"))
    data.mkdir()
    (tmp_path / "app.log").write_text("INFO hello\n")
    assert runner.invoke(app, ["ingest", "logs", str(tmp_path / "app.log")]).exit_code == 0
    state = (data / "drain3_state.bin").read_bytes()
    (data / "drain3_state.choices.json").write_text('{"sources": "not medic"}')
    broken = runner.invoke(app, ["ingest", "logs", str(tmp_path / "app.log")])
    assert broken.exit_code == 1
    assert "drain3_state.choices.json" in broken.stderr
    assert "medic knowledge repair" in broken.stderr
    repaired = runner.invoke(app, ["knowledge", "repair"])
    assert repaired.exit_code == 0 and "1 store(s) moved aside" in repaired.output
    assert len(list(data.glob("drain3_state.choices.json.broken-*"))) == 1
    assert (data / "drain3_state.bin").read_bytes() == state  # the templates are kept
    assert runner.invoke(app, ["ingest", "logs", str(tmp_path / "app.log")]).exit_code == 0
    assert (data / "drain3_state.choices.json").exists()


@pytest.mark.slow
def test_eval_rca_emulates_the_time_for_logs_of_a_source_of_a_given_speed(tmp_path: Path) -> None:
    write_nezha(tmp_path / "nezha")
    result = runner.invoke(
        app,
        ["eval", "rca", "--data", str(tmp_path / "nezha"), "--log-lines-per-second", "1",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    timed = json.loads(result.stdout.strip().splitlines()[-1])["localization_timed"]
    assert timed["lines_per_second"] == 1.0 and timed["log_seconds"] == 0.3
    assert {"as@1", "as@3", "as@5", "readers", "request_seconds"} <= set(timed)


POSTMORTEMS = [
    {"title": "Resolver outage", "summary": "A typo in the zone file broke every lookup."},
    {"title": "Disk full", "summary": "Audit logs filled the root volume; rotation was off."},
    {"title": "Pool exhausted", "summary": "A deploy doubled workers and the pool ran dry."},
    {"title": "Certificate expired", "summary": "The gateway certificate expired on a Sunday."},
    {"title": "Pod evictions", "summary": "Pod Priorities made the scheduler evict pods."},
]


def _medic_json(*args: str) -> dict[str, Any]:
    """`medic ARGS --json` in a fresh process: its last line."""
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli.app import app; app()", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[2])},
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_search_answers_alike_in_two_processes_and_says_when_nothing_is_close(
    tmp_path: Path,
) -> None:
    (tmp_path / "pm.jsonl").write_text("\n".join(json.dumps(p) for p in POSTMORTEMS))
    ingested = runner.invoke(app, ["ingest", "postmortems", str(tmp_path / "pm.jsonl")])
    assert ingested.exit_code == 0, ingested.output
    question = "higher-priority pods evicted"
    first, second = _medic_json("search", question), _medic_json("search", question)
    assert first == second and first["close_match"] is True
    assert first["hits"][0]["title"] == "Pod evictions" and first["hits"][0]["relevant"]
    off_topic = runner.invoke(app, ["search", "banana bread recipe with walnuts", "--json"])
    assert off_topic.exit_code == 0, off_topic.output
    assert off_topic.stderr.startswith("no close match for 'banana bread recipe with walnuts'")
    found = json.loads(off_topic.stdout)  # --json: the JSON alone on stdout
    assert found["close_match"] is False and found["hits"]
    assert not any(hit["relevant"] for hit in found["hits"])


def test_eval_postmortems_reports_search_beside_both_baselines(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [{**p, "url": f"https://pm.example/{i}"} for i, p in enumerate(POSTMORTEMS)]
    (corpus / "pm.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    questions = [
        {"question": "dns names stopped resolving", "relevant": ["https://pm.example/0"]},
        {"question": "root volume ran out of space", "relevant": ["https://pm.example/1"]},
        {"question": "cheap flights to lisbon", "relevant": []},
    ]
    file = tmp_path / "q.jsonl"
    file.write_text("\n".join(json.dumps({**q, "split": "test"}) for q in questions))
    result = runner.invoke(
        app, ["eval", "postmortems", "--data", str(corpus), "--queries", str(file), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["queries"] == 2 and summary["hit@1"] == 1.0 and summary["mrr"] == 1.0
    assert set(summary["baselines"]) == {"bm25", "dense"}
    assert summary["off_topic"] == 1 and summary["off_topic_marked_relevant"] == 0.0
    assert summary["seconds"] > 0


def test_eval_postmortems_with_a_bad_question_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "q.jsonl").write_text('{"question": "ok", "relevant": []}\n{"relevant": 3}\n')
    result = runner.invoke(
        app,
        ["eval", "postmortems", "--data", str(tmp_path), "--queries", str(tmp_path / "q.jsonl")],
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"medic: --queries {tmp_path / 'q.jsonl'}: {tmp_path / 'q.jsonl'}:2: not a question "
        "(want {question, relevant, split})"
    )
