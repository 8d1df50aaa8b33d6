"""`medic investigate SERVICE --cluster sim --json` names the ranked origins, most likely first,
beside the anomalies and the window used - as a user scripting Medic reads them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from bot.origin_views import MAX_ORIGIN_EVIDENCE

pytestmark = pytest.mark.slow


def investigate(*args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(app, ["investigate", *args, "--cluster", "sim", "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stdout


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
