"""Scenario tests of the whole path, driven through the `medic` CLI as a user would."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli.app import app

pytestmark = pytest.mark.slow


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def summary(stdout: str) -> dict[str, Any]:
    """The --json report: all of stdout (the thread goes to stderr), so `| jq` works."""
    return json.loads(stdout)  # type: ignore[no-any-return]


def test_demo_with_yes_fixes_verifies_and_remembers_for_next_time() -> None:
    code, out, err = run("demo", "--yes", "--json")
    assert code == 0, err
    first = summary(out)
    assert first["service"] == "recommender"
    assert {"latency_p95_ms", "request_payload_bytes"} <= set(first["anomalies"])
    assert first["hypotheses"][0]["text"].startswith("Input size increase")
    assert len(first["hypotheses"]) >= 2
    assert first["hypotheses"][0]["score"] > first["hypotheses"][1]["score"]
    assert {(p["tool"], p["status"]) for p in first["proposals"]} == {
        ("scale", "succeeded"),
        ("purge_cache", "succeeded"),
    }
    scale = next(p for p in first["proposals"] if p["tool"] == "scale")
    assert (scale["target"], scale["parameters"]) == ("shop/recommender", {"replicas": 6})
    assert first["verified"] is True
    assert "p95 latency back to" in err and "Remembered" in err

    code, out, err = run("demo", "--yes", "--json")
    assert code == 0, err
    second = summary(out)
    assert second["incident_id"] != first["incident_id"]
    similar = {s["id"]: s["similarity"] for s in second["similar_incidents"]}
    assert first["incident_id"] in similar
    assert similar[first["incident_id"]] == max(similar.values())


def test_demo_plays_any_scenario_a_victims_fix_acts_on_its_origin() -> None:
    code, out, err = run("demo", "--scenario", "slow-dependency", "--yes", "--json")
    assert code == 0, err
    report = summary(out)
    assert report["service"] == "frontend"  # the alert is frontend's; checkout is slow
    assert report["origins"][0]["service"] == "checkout"
    first = report["proposals"][0]
    assert (first["tool"], first["target"], first["status"]) == (
        "restart",
        "shop/checkout",
        "succeeded",
    )
    assert all(p["target"] != "shop/frontend" for p in report["proposals"])
    assert report["verified"] is True


def test_demo_of_an_unknown_scenario_is_one_line_and_exit_2() -> None:
    code, out, err = run("demo", "--scenario", "<!channel>", "--yes")
    assert code == 2
    assert err.startswith("medic: unknown scenario '<!channel>' (known: input-size-surge, ")
    assert len(err.strip().splitlines()) == 1 and out == ""


def test_demo_not_on_a_terminal_proposes_and_stops() -> None:
    code, out, err = run("demo", "--json")
    assert code == 0
    report = summary(out)
    assert {p["status"] for p in report["proposals"]} == {"proposed"}
    assert report["verified"] is False
    assert "nothing was executed" in err


def test_demo_on_a_terminal_asks_for_each_proposal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.app._interactive", lambda: True)
    code, out, err = run("demo", "--json", input="y\nn\n")
    assert code == 0
    echoed = " y\n n\n"  # the answers as typed: a terminal echoes them (the runner, on stdout)
    assert out.startswith(echoed)
    statuses = [p["status"] for p in summary(out.removeprefix(echoed))["proposals"]]
    assert statuses == ["succeeded", "rejected"]
    assert "Approve: scale deployment shop/recommender: 3 -> 6 replicas?" in err  # not in the JSON


def alert_file(tmp_path: Path, **labels: str) -> Path:
    path = tmp_path / "alert.json"
    path.write_text(
        json.dumps(
            {
                "status": "firing",
                "labels": {"alertname": "X", "namespace": "shop", **labels},
                "startsAt": "2026-11-28T10:00:00Z",
            }
        )
    )
    return path


def test_malformed_alert_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"alerts": [{"labels": {"service": "x"}}]}')
    code, out, err = run("investigate", "--alert", str(bad), "--cluster", "sim")
    assert code == 2
    assert err.startswith("medic: malformed alert") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err
    assert not Path(os.environ["MEDIC_DATA_DIR"]).exists()


def test_unknown_service_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    code, _, err = run(
        "investigate", "--alert", str(alert_file(tmp_path, service="payments")), "--cluster", "sim"
    )
    assert code == 2
    assert "unknown service" in err and "known: checkout, frontend, recommender" in err


def test_unusable_data_directory_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("MEDIC_DATA_DIR", str(blocker))
    code, _, err = run("demo")
    assert code == 2 and "is a file" in err


def test_investigate_needs_an_explicit_cluster(tmp_path: Path) -> None:
    code, _, err = run("investigate", "recommender")
    assert code == 2 and "choose a cluster explicitly" in err


def test_investigate_a_service_by_name_on_the_simulation() -> None:
    code, out, err = run("investigate", "checkout", "--cluster", "sim", "--json")
    assert code == 0, err
    report = summary(out)
    assert report["service"] == "checkout" and report["anomalies"] == []


def test_the_model_drift_demo_retrains_and_the_registry_shows_the_new_champion(
    tmp_path: Path,
) -> None:
    """The seed's closed loop in one scenario: the inputs drifted against the served version's
    training data, retraining is proposed and approved, the pipeline registers a new version and
    moves the alias, and the click-through recovers - read back with MLflow's own client."""
    from mlflow import MlflowClient

    code, out, err = run("demo", "--scenario", "model-drift", "--yes", "--json")
    assert code == 0, err
    report = summary(out)
    top = report["hypotheses"][0]["text"]
    assert top.startswith("Input drift") and "version 3's training data" in top
    assert "basket_value" in top
    first = report["proposals"][0]
    assert (first["tool"], first["target"], first["status"]) == (
        "retrain",
        "shop/recommender",
        "succeeded",
    )
    assert report["model"]["blamed"] == "input-drift"
    assert report["verified"] is True
    store = tmp_path / "data" / "mlflow" / "mlflow.db"
    client = MlflowClient(f"sqlite:///{store}")
    champion = client.get_model_version_by_alias("recommender-ranker", "champion")
    assert str(champion.version) == "4"  # trained on recent data by the approved run
