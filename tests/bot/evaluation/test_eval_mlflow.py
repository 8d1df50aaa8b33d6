"""`medic eval ... --mlflow` as a CI job runs it: the evaluation's JSON line, and one MLflow run
holding the same numbers, the code version and the data digest - on a real `mlflow server` and on
the embedded store in the data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import InvestigationSettings
from bot.evaluation import tracking
from tests.detectors.nab_fixtures import spiky_corpus
from tests.services.binaries import free_port
from tests.services.stalling import stalling_server

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str) -> tuple[int, dict[str, Any] | None, str]:
    """Exit code, the last line of output as JSON (None when there is none), stderr. With
    --json, that line is all of the output: nothing of MLflow's ("View run at") before it."""
    result = CliRunner().invoke(app, ["eval", *args])
    lines = result.stdout.strip().splitlines()
    assert "--json" not in args or len(lines) <= 1, result.stdout
    return result.exit_code, json.loads(lines[-1]) if lines else None, result.stderr


def nab(corpus: Path, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    return run("nab", "--data", str(corpus), "--jobs", "1", "--json", *extra)


def head_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def test_a_run_on_the_server_holds_the_json_lines_numbers_code_and_data(
    mlflow_server: str, tmp_path: Path
) -> None:
    corpus = spiky_corpus(tmp_path / "corpus")
    code, line, err = nab(corpus, "--mlflow-uri", mlflow_server)
    assert code == 0, err
    assert line is not None and line["mlflow_run_id"]
    logged = MlflowClient(mlflow_server).get_run(line["mlflow_run_id"])
    assert logged.info.status == "FINISHED"
    scores, thresholds = line["scores"], line["thresholds"]
    assert logged.data.metrics == {
        "files": 4.0,
        "seconds": line["seconds"],
        **{f"scores.{k}": v for k, v in scores.items()},
        **{f"thresholds.{k}": v for k, v in thresholds.items()},
    }
    tags, params = logged.data.tags, logged.data.params
    assert tags["medic.command"] == "eval nab"
    assert tags["medic.code_version"] == tags["medic.git_commit"] == head_commit()
    assert tags["medic.git_dirty"] in ("true", "false")
    assert len(tags["medic.data_digest"]) == 64 and tags["medic.data_files"] == "5"
    assert tags["medic.embedding_model"].startswith("all-MiniLM-L6-v2@")
    assert params["option.detector"] == "ensemble" and params["option.jobs"] == "1"
    assert params["config.detectors.alert_score"] == "0.5"
    assert params["config.investigation.log_candidates"] == str(
        InvestigationSettings().log_candidates
    )
    # the configuration in force, as a file on the server's artifact store
    saved = MlflowClient(mlflow_server).download_artifacts(
        logged.info.run_id, "configuration.json", str(tmp_path)
    )
    configuration = json.loads(Path(saved).read_text())
    assert configuration["config_digest"] == tags["medic.config_digest"]
    assert configuration["configuration"]["detectors"]["min_run"] == 3


def test_runs_on_other_data_and_configuration_are_one_query_apart(
    mlflow_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = spiky_corpus(tmp_path / "corpus")
    _, first, _ = nab(corpus, "--mlflow-uri", mlflow_server)
    _, again, _ = nab(corpus, "--mlflow-uri", mlflow_server)  # same data, same digest
    quiet = corpus / "data" / "catB" / "quiet.csv"  # one value changed: other data
    rows = quiet.read_text().splitlines()
    quiet.write_text("\n".join([*rows[:-1], rows[-1].split(",")[0] + ",0.5"]) + "\n")
    monkeypatch.setenv("MEDIC_DETECTORS__MIN_RUN", "5")  # other configuration
    _, changed, err = nab(corpus, "--mlflow-uri", mlflow_server)
    assert first and again and changed, err
    client = MlflowClient(mlflow_server)
    ids = [line["mlflow_run_id"] for line in (first, again, changed)]
    tags = [client.get_run(i).data.tags for i in ids]
    assert tags[0]["medic.data_digest"] == tags[1]["medic.data_digest"]
    assert tags[0]["medic.data_digest"] != tags[2]["medic.data_digest"]
    assert tags[0]["medic.config_digest"] == tags[1]["medic.config_digest"]
    assert tags[0]["medic.config_digest"] != tags[2]["medic.config_digest"]
    # the configuration is versioned in the registry: a new version only when it changed
    config = "medic.version.medic-detector-config"
    assert tags[0][config] == tags[1][config] != tags[2][config]
    versions = client.search_model_versions("name='medic-detector-config'")
    assert {v.tags["digest"] for v in versions} == {
        tags[0]["medic.config_digest"],
        tags[2]["medic.config_digest"],
    }
    embedding = "medic.version.medic-embedding-model"
    assert tags[0][embedding] == tags[2][embedding]
    (model,) = client.search_model_versions("name='medic-embedding-model'")
    assert model.tags["digest"] == tags[0]["medic.embedding_model"]
    # quality across code versions and data: one query over the command's experiment
    experiment = client.get_experiment_by_name("medic-eval-nab")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`medic.code_version` = '{head_commit()}'",
        order_by=["attributes.start_time ASC"],
    )
    found = {r.info.run_id: r for r in runs}
    assert set(ids) <= set(found)
    assert found[ids[2]].data.metrics["scores.standard"] == changed["scores"]["standard"]
    assert found[ids[2]].data.params["config.detectors.min_run"] == "5"


def test_the_embedded_store_is_in_the_data_directory(tmp_path: Path) -> None:
    corpus = spiky_corpus(tmp_path / "corpus")
    code, line, err = nab(corpus, "--mlflow")
    assert code == 0, err
    assert line is not None
    assert err.count("\n") == 4  # progress only: nothing of MLflow's own logging
    store = Path(os.environ["MEDIC_DATA_DIR"]).resolve() / "mlflow"
    client = MlflowClient(f"sqlite:///{store / 'mlflow.db'}")
    logged = client.get_run(line["mlflow_run_id"])
    assert logged.data.metrics["scores.standard"] == line["scores"]["standard"]
    assert logged.info.artifact_uri.startswith((store / "artifacts").as_uri())
    assert [a.path for a in client.list_artifacts(logged.info.run_id)] == ["configuration.json"]


def test_a_server_that_is_down_leaves_the_result_printed_one_line_and_exit_4(
    tmp_path: Path,
) -> None:
    corpus = spiky_corpus(tmp_path / "corpus")
    down = f"http://ci:s3cret@127.0.0.1:{free_port()}"
    code, line, err = nab(corpus, "--mlflow-uri", down)
    assert code == 4
    assert line is not None and line["mlflow_run_id"] is None
    assert line["scores"]["standard"] > 80  # the evaluation's result, as without --mlflow
    assert err.count("\n") == 5  # four files scored, then one line: not logged
    last = err.strip().splitlines()[-1]
    assert last.startswith("medic: the evaluation ran (its result is above) but was not logged")
    shown = down.replace("ci:s3cret@", "")
    assert last.endswith(f"at {shown}: cannot connect (Connection refused)")
    assert "s3cret" not in err


def test_a_server_whose_answer_never_ends_is_given_up_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read of the answer is quick, so no request timeout fires: the deadline on the whole
    logging does (cut to 3 s here from 120)."""
    monkeypatch.setattr(tracking, "MAX_LOGGING_SECONDS", 3.0)
    corpus = spiky_corpus(tmp_path / "corpus")
    with stalling_server("trickle") as (url, arrived):
        code, line, err = nab(corpus, "--mlflow-uri", url)
    assert arrived.is_set()
    assert code == 4
    assert line is not None and line["mlflow_run_id"] is None and line["files"] == 4
    assert err.strip().splitlines()[-1].endswith("no complete answer within 3 s")


@pytest.mark.parametrize("uri", ["ftp://mlflow:5000", "slow-dependency", "http://"])
def test_an_mlflow_uri_that_is_no_server_is_refused_before_evaluating(
    tmp_path: Path, uri: str
) -> None:
    corpus = spiky_corpus(tmp_path / "corpus")
    code, _, err = nab(corpus, "--mlflow-uri", uri)
    assert code == 2
    assert err.count("\n") == 1 and "is not an http(s) URI of an MLflow server" in err
    assert "[1/4]" not in err  # nothing was scored


def test_hostile_option_values_are_logged_bounded_on_one_line(tmp_path: Path) -> None:
    corpus = spiky_corpus(tmp_path / ("c\x1b[31m\u202e" + "x" * 200))
    code, line, err = nab(corpus, "--mlflow", "--profile", "standard")
    assert code == 0, err
    assert line is not None
    store = Path(os.environ["MEDIC_DATA_DIR"]).resolve() / "mlflow"
    logged = MlflowClient(f"sqlite:///{store / 'mlflow.db'}").get_run(line["mlflow_run_id"])
    shown = logged.data.params["option.data"]
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "\\x1b[31m\\u202e" in shown and shown.endswith("x" * 100)


def test_without_mlflow_mlflow_is_not_even_imported(tmp_path: Path) -> None:
    corpus = spiky_corpus(tmp_path / "corpus")
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bot.cli.app import app\n"
        f"done = CliRunner().invoke(app, ['eval', 'nab', '--data', {str(corpus)!r}, '--json'])\n"
        "assert done.exit_code == 0, done.output\n"
        "print('mlflow' in sys.modules, 'mlflow_run_id' in done.stdout)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "False False"


@pytest.mark.slow
def test_a_scenario_run_on_the_server_holds_the_suites_summary(mlflow_server: str) -> None:
    code, line, err = run("scenarios", "input-size-surge", "--mlflow-uri", mlflow_server)
    assert code == 0, err
    assert line is not None
    logged = MlflowClient(mlflow_server).get_run(line["mlflow_run_id"])
    assert logged.data.metrics == {
        "scenarios": 1.0,
        **{
            f"{k}.{n}": line[k][n] for k in ("remediation", "hypothesis", "origin") for n in line[k]
        },
    }
    assert logged.data.metrics["remediation.top1"] == 1.0
    assert logged.data.params["option.scenarios"] == "input-size-surge"
    assert logged.data.params["option.vary"] == "0"
    # the scenarios' data: the simulated shop and the sample incidents, not their bytecode
    assert logged.data.tags["medic.data_digest_partial"] == "false"
    sources = [p for p in (ROOT / "tools" / "sim").rglob("*") if p.is_file()]
    samples = [p for p in (ROOT / "knowledge" / "samples").rglob("*") if p.is_file()]
    expected = [p for p in sources + samples if "__pycache__" not in p.parts]
    assert logged.data.tags["medic.data_files"] == str(len(expected))
