"""`medic investigate SERVICE --cluster sim --json` names the ranked origins, most likely first,
beside the anomalies and the window used - as a user scripting Medic reads them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from bot.origin_views import MAX_ORIGIN_EVIDENCE

pytestmark = pytest.mark.slow


def investigate(*args: str) -> tuple[dict[str, Any], str]:
    """The --json report (all of stdout: `medic investigate ... --json | jq` works) and the
    thread printed for a person beside it (on stderr)."""
    result = CliRunner().invoke(app, ["investigate", *args, "--cluster", "sim", "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_a_victims_origins_are_listed_most_likely_first() -> None:
    report, printed = investigate("frontend", "--scenario", "slow-dependency")
    origins = report["origins"]
    assert [o["service"] for o in origins] == ["checkout", "frontend", "recommender"]
    checkout, frontend, _ = origins
    assert (checkout["relation"], checkout["hops"], checkout["downstream_of"]) == ("calls", 1, None)
    assert (frontend["relation"], frontend["hops"]) == ("alerting", 0)
    assert frontend["downstream_of"] == "checkout"
    began = {o["service"]: o["first_deviation"] for o in origins}
    for service in ("checkout", "frontend"):  # when each was first seen out of the ordinary
        assert datetime.fromisoformat(began[service]).utcoffset() == timedelta(0), began
    assert any("latency_p95_ms" in e for e in checkout["evidence"])
    assert all(len(o["evidence"]) <= MAX_ORIGIN_EVIDENCE and o["logs_read"] for o in origins)
    assert "latency_p95_ms" in report["anomalies"]  # the alerting service's, as before
    assert "Most likely origin: checkout (latency out of the ordinary since" in printed


def test_the_demo_service_is_its_own_origin_and_the_whole_symptom_is_caught() -> None:
    report, printed = investigate("recommender")
    assert {"latency_p95_ms", "cache_memory_bytes"} <= set(report["anomalies"])
    assert report["window"]["chosen"] == "onset"
    assert report["origins"][0]["service"] == "recommender"
    assert report["origins"][0]["relation"] == "alerting"
    assert {o["service"] for o in report["origins"]} == {"recommender", "checkout", "frontend"}
    assert "Most likely origin: recommender itself" in printed


def test_a_configured_call_graph_with_cycles_and_strangers_still_finds_the_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-written ``dependencies:`` may call itself, go round in a circle or name a service
    the namespace does not have: the ranking ends, and the slow dependency is still named."""
    config = tmp_path / "medic.yaml"
    config.write_text(
        "dependencies:\n"
        "  frontend: [frontend, checkout, ghost]\n"
        "  checkout: [frontend, recommender]\n"
        "  recommender: [checkout]\n"
    )
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    report, _ = investigate("frontend", "--scenario", "slow-dependency")
    origins = {o["service"]: o for o in report["origins"]}
    assert report["origins"][0]["service"] == "checkout"
    assert origins["frontend"]["downstream_of"] == "checkout"
    assert "ghost" not in origins  # nothing was read of it: said, not ranked
    assert any("not read" in note and "ghost" in note for note in report["notes"])


def test_a_call_graph_naming_markup_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "medic.yaml"
    config.write_text('dependencies:\n  frontend: ["<!channel>"]\n')
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    result = CliRunner().invoke(app, ["investigate", "frontend", "--cluster", "sim"])
    assert result.exit_code == 2
    assert result.stderr.startswith("medic: invalid configuration: dependencies.frontend.0")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_victims_thread_lists_the_past_incident_of_the_service_where_it_started() -> None:
    """frontend pages on latency; checkout, which it calls, is slow. The past incident that
    answers it is checkout's ("checkout waited on a dependency's timeouts", PAST-007): the
    ranking's leaders are the places a past incident may have started, as `medic eval rca`
    scores the memory. Only frontend's own unrelated incidents were listed before, all weak."""
    report, _ = investigate("frontend", "--scenario", "slow-dependency")
    listed = {s["id"]: s for s in report["similar_incidents"]}
    assert "PAST-007" in listed and not listed["PAST-007"]["weak"], report["similar_incidents"]
