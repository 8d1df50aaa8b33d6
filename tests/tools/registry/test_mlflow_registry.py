"""The MLflow adapter against both stores users run: the embedded SQLite store in the data
directory and a real ``mlflow server`` on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.services.stalling import stalling_server
from tools.registry import (
    FeatureHistogram,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnavailableError,
    TrainingProfile,
)
from tools.registry.mlflow import (
    MAX_FEATURES,
    MAX_PROFILE_BYTES,
    MAX_TEXT,
    PROFILE_ARTIFACT,
    MlflowRegistry,
    parse_profile,
)

from .conftest import START

PROFILE = TrainingProfile(
    features=(
        FeatureHistogram("basket_value", (0.0, 50.0, 100.0, 200.0), (120.0, 60.0, 20.0)),
        FeatureHistogram("hour_of_day", (0.0, 12.0, 24.0), (80.0, 120.0)),
    ),
    predictions=FeatureHistogram("prediction", (0.0, 0.5, 1.0), (150.0, 50.0)),
)


def fresh(registry: MlflowRegistry, versions: int = 3, *, profile: bool = True) -> str:
    """A model of its own with ``versions`` versions, auc rising by version."""
    model = f"ranker-{uuid.uuid4().hex[:8]}"
    for n in range(1, versions + 1):
        registry.log_training_run(
            model,
            params={"window": f"week {n}"},
            metrics={"auc": 0.7 + n / 100},
            profile=PROFILE,
            description=f"trained on week {n}",
        ) if profile else None
    return model


def test_versions_come_newest_first_with_their_runs_metrics(registry: MlflowRegistry) -> None:
    model = fresh(registry)
    versions = registry.versions(model)
    assert [v.version for v in versions] == ["3", "2", "1"]
    assert versions[0].metrics == {"auc": pytest.approx(0.73)}
    assert versions[2].description == "trained on week 1"
    assert versions[0].run_id and versions[0].run_id != versions[1].run_id
    assert [v.version for v in registry.versions(model, limit=2)] == ["3", "2"]


def test_set_alias_moves_it_and_says_when_and_from_where(registry: MlflowRegistry) -> None:
    model = fresh(registry)
    assert registry.alias(model, "champion") is None
    first = registry.set_alias(model, "champion", "2")
    assert (first.previous, first.version) == (None, "2")
    move = registry.set_alias(model, "champion", "3")
    assert (move.previous, move.version) == ("2", "3")
    serving = registry.alias(model, "champion")
    assert serving is not None and serving.version == "3"
    assert serving.aliases == ("champion",)
    # MLflow keeps no alias history: the version says since when the alias names it (clock time)
    assert registry.alias_since(serving, "champion") == datetime.fromtimestamp(START, UTC)
    assert registry.versions(model)[0].aliases == ("champion",)
    assert registry.versions(model)[1].aliases == ()


def test_a_dry_run_checks_and_changes_nothing(registry: MlflowRegistry) -> None:
    model = fresh(registry)
    registry.set_alias(model, "champion", "3")
    move = registry.set_alias(model, "champion", "2", dry_run=True)
    assert (move.previous, move.version) == ("3", "2")
    serving = registry.alias(model, "champion")
    assert serving is not None and serving.version == "3"
    assert "medic.alias.champion.since" not in registry.versions(model)[1].tags
    with pytest.raises(RegistryError, match="9"):
        registry.set_alias(model, "champion", "9", dry_run=True)


def test_the_training_profile_comes_back_as_logged(registry: MlflowRegistry) -> None:
    model = fresh(registry, versions=1)
    assert registry.training_profile(model, "1") == PROFILE


def test_a_version_without_a_profile_has_none(registry: MlflowRegistry) -> None:
    model = fresh(registry, versions=1)
    version = registry.versions(model)[0]
    client = registry.client()
    run = client.create_run(client.get_run(version.run_id).info.experiment_id)
    client.create_model_version(model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    assert registry.training_profile(model, "2") is None


def test_unknown_models_and_versions_are_one_line_errors(registry: MlflowRegistry) -> None:
    model = fresh(registry, versions=1)
    for call in (
        lambda: registry.versions("no-such-model"),
        lambda: registry.alias("no-such-model", "champion"),
        lambda: registry.set_alias("no-such-model", "champion", "1"),
        lambda: registry.set_alias(model, "champion", "7"),
        lambda: registry.training_profile(model, "7"),
    ):
        with pytest.raises(RegistryNotFoundError) as raised:  # an answer: not "down"
            call()
        assert "\n" not in str(raised.value) and registry.name in str(raised.value)


def test_a_server_that_is_down_is_a_registry_error_at_once() -> None:
    down = MlflowRegistry("http://127.0.0.1:9", timeout_seconds=2)
    started = time.monotonic()
    with pytest.raises(RegistryUnavailableError) as raised:  # a dependency down
        down.versions("recommender-ranker")
    assert str(raised.value) == (
        "mlflow at http://127.0.0.1:9: reading model 'recommender-ranker': cannot reach the "
        "server (connection refused)"
    )
    assert time.monotonic() - started < 5  # MLflow alone retries for minutes


def test_a_server_that_never_answers_is_a_registry_error_within_the_timeout() -> None:
    with stalling_server("silent") as (url, arrived):
        hanging = MlflowRegistry(url, timeout_seconds=1)
        started = time.monotonic()
        with pytest.raises(RegistryUnavailableError, match="did not answer in time") as raised:
            hanging.alias("recommender-ranker", "champion")
        assert arrived.is_set()
        assert time.monotonic() - started < 8
        assert "\n" not in str(raised.value)


def test_a_run_is_found_by_its_tag_and_hostile_values_find_nothing(
    registry: MlflowRegistry,
) -> None:
    """How an interrupted retrain finds the run its proposal started (tools/reconcile.py)."""
    reference = uuid.uuid4().hex[:12]
    run_id = registry.start_run("ranker-tagged", {}, tags={"medic.proposal": reference})
    assert registry.run_tagged("medic.proposal", reference) == run_id
    assert registry.run_tagged("medic.proposal", uuid.uuid4().hex[:12]) is None
    assert registry.run_tagged("medic.proposal", "x' OR tags.`medic.model` != '") is None


def test_hostile_names_and_descriptions_are_data_and_bounded(registry: MlflowRegistry) -> None:
    model = f"<!channel> it's *bold* {uuid.uuid4().hex[:6]}"
    registry.log_training_run(
        model,
        params={"window": "x"},
        metrics={"auc": 0.7},
        profile=PROFILE,
        description="<https://evil.example|click> " * 1000,
    )
    registry.set_alias(model, "champion", "1")
    (version,) = registry.versions(model)
    assert version.model == model  # verbatim: escaping is the renderer's job
    assert len(version.description) <= MAX_TEXT
    serving = registry.alias(model, "champion")
    assert serving is not None and serving.version == "1"


def test_an_oversized_profile_is_refused_not_read(registry: MlflowRegistry) -> None:
    model = fresh(registry, versions=1)
    run_id = registry.versions(model)[0].run_id
    huge = json.dumps({"features": [], "padding": "x" * (MAX_PROFILE_BYTES + 10)})
    registry.client().log_text(run_id, huge, PROFILE_ARTIFACT)
    with pytest.raises(RegistryError, match="bytes"):
        registry.training_profile(model, "1")


@pytest.mark.parametrize(
    ("profile", "problem"),
    [
        (b"not json", "not JSON"),
        (b'{"features": 3}', "no list of features"),
        (
            json.dumps(
                {
                    "features": [{"feature": "f", "edges": [0, 1], "counts": [1]}]
                    * (MAX_FEATURES + 1)
                }
            ).encode(),
            "features",
        ),
        (b'{"features": [{"feature": "f", "edges": [0, 1], "counts": [1, 2]}]}', "bins"),
        (b'{"features": [{"feature": "f", "edges": [1, 0], "counts": [1]}]}', "increase"),
        (b'{"features": [{"feature": "f", "edges": [0, 1], "counts": [-1]}]}', "negative"),
        (b'{"features": [{"feature": "f", "edges": [0, Infinity], "counts": [1]}]}', "infinite"),
        (b'{"features": [{"feature": "f", "edges": [0, 1], "counts": ["a"]}]}', "no number"),
        (b'{"features": [{"feature": "", "edges": [0, 1], "counts": [1]}]}', "name"),
        (b"[" * 100_000, "JSON"),
    ],
)
def test_a_malformed_profile_is_one_clear_error(profile: bytes, problem: str) -> None:
    with pytest.raises(RegistryError, match=problem):
        parse_profile(profile)


def test_a_name_with_both_quotes_is_refused_not_misread(registry: MlflowRegistry) -> None:
    with pytest.raises(RegistryError, match="both kinds of quote"):
        registry.versions("""a'b"c""")


def test_mlflow_is_imported_on_first_use_and_its_telemetry_is_off(tmp_path: Path) -> None:
    """``import mlflow`` costs seconds: commands that never touch the registry must not pay it;
    and nothing of MLflow's may reach the network."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import bot.wiring, tools.registry, tools.sim.training\n"
        "assert 'mlflow' not in sys.modules, 'imported too early'\n"
        "from tools.registry import MlflowRegistry\n"
        f"MlflowRegistry.embedded(Path({str(tmp_path)!r})).client()\n"
        "from mlflow.environment_variables import MLFLOW_DISABLE_TELEMETRY\n"
        "from mlflow.telemetry.utils import is_telemetry_disabled\n"
        "assert MLFLOW_DISABLE_TELEMETRY.get() and is_telemetry_disabled()\n"
    )
    # as a user's shell has it: no MLflow settings, not under pytest or CI (MLflow would then
    # turn its telemetry off by itself)
    ci = {"PYTEST_CURRENT_TEST", "CI", "GITHUB_ACTIONS", "GITLAB_CI", "DO_NOT_TRACK"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_") and k not in ci}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


def test_a_server_that_trickles_its_answer_is_a_registry_error_at_the_deadline() -> None:
    """MLflow's HTTP timeout bounds each socket read, not the answer: a byte every 0.2 s would
    keep it waiting for ever. The call is abandoned at its deadline."""
    with stalling_server("trickle", interval=0.2) as (url, arrived):
        trickling = MlflowRegistry(url, timeout_seconds=1)
        started = time.monotonic()
        with pytest.raises(RegistryError, match="no complete answer within 3 s"):
            trickling.alias("recommender-ranker", "champion")
        assert arrived.is_set() and time.monotonic() - started < 8
