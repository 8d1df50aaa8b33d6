"""One real ``mlflow server`` for the session, and the registry under test on either store: the
embedded SQLite store of a data directory, or that server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.mlflow_server import running_mlflow
from tools.clock import VirtualClock
from tools.registry.mlflow import MlflowRegistry

START = 1_800_000_000.0


@pytest.fixture(scope="session")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_mlflow(tmp_path_factory.mktemp("mlflow-server")) as url:
        yield url


@pytest.fixture(scope="session")
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded store for the session: its first use runs MLflow's migrations (seconds)."""
    return tmp_path_factory.mktemp("medic-data")


@pytest.fixture(params=["embedded", "server"])
def registry(request: pytest.FixtureRequest, embedded_dir: Path) -> MlflowRegistry:
    clock = VirtualClock(START)
    if request.param == "embedded":
        return MlflowRegistry.embedded(embedded_dir, clock=clock)
    url = request.getfixturevalue("mlflow_url")
    return MlflowRegistry(url, clock=clock)
