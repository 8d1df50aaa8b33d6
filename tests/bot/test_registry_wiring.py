"""The ``registry`` settings and their wiring: MLflow embedded in the data directory unless a
server is named, the simulated shop's model on the simulated cluster, and a real cluster's
missing training pipeline said at first use."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.wiring import Wiring
from tools.clock import VirtualClock
from tools.errors import BackendUnavailableError
from tools.registry import MlflowRegistry
from tools.sim import SimulatedCluster
from tools.sim.model_suite import MODEL_SCENARIOS

START = 1_800_000_000.0


def test_the_default_is_the_embedded_store_in_the_data_directory(tmp_path: Path) -> None:
    wiring = Wiring(load_settings(data_dir=tmp_path / "data"))
    store = wiring.registry()
    assert isinstance(store, MlflowRegistry)
    assert store.tracking_uri == f"sqlite:///{(tmp_path / 'data' / 'mlflow' / 'mlflow.db')}"
    assert store.artifacts == (tmp_path / "data" / "mlflow" / "artifacts").resolve()
    assert store.timeout_seconds == 5


def test_a_team_server_is_named_by_its_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_REGISTRY__TRACKING_URI", "http://mlflow.example:5000")
    monkeypatch.setenv("MEDIC_REGISTRY__TIMEOUT_SECONDS", "2.5")
    store = Wiring(load_settings()).registry()
    assert store.name == "mlflow at http://mlflow.example:5000"
    assert isinstance(store, MlflowRegistry) and store.timeout_seconds == 2.5


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MEDIC_REGISTRY__TRACKING_URI", "ftp://mlflow.example"),
        ("MEDIC_REGISTRY__TRACKING_URI", "http://mlflow.example\n<!channel>"),
        ("MEDIC_REGISTRY__REGISTRY_URI", "databricks"),
        ("MEDIC_REGISTRY__TIMEOUT_SECONDS", "0"),
        ("MEDIC_REGISTRY__TIMEOUT_SECONDS", "nan"),
    ],
)
def test_a_bad_registry_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert variable in message and "\n" not in message


def test_a_real_cluster_says_what_to_configure_for_retraining() -> None:
    training = Wiring(load_settings()).training()
    with pytest.raises(BackendUnavailableError, match="set training_jobs in the policy"):
        training.start("recommender-ranker", dry_run=True)


def test_the_simulated_cluster_gets_the_shop_model_in_the_registry(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    sim = SimulatedCluster(MODEL_SCENARIOS[1], clock)
    wiring = Wiring(load_settings(data_dir=tmp_path / "data", cluster="sim"))
    sources = wiring.sources(clock, sim)
    assert sources.features is sim and sources.registry is wiring.registry(sim)
    assert sources.training is wiring.training(sim)
    assert sources.registry is not None
    serving = sources.registry.alias("recommender-ranker", "champion")
    assert serving is not None and serving.version == "4"
    # the same store, read with MLflow's own client, as a user would
    from mlflow import MlflowClient

    uri = f"sqlite:///{(tmp_path / 'data' / 'mlflow' / 'mlflow.db').resolve()}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert str(client.get_model_version_by_alias("recommender-ranker", "champion").version) == "4"
