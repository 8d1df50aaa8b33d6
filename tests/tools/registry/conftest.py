"""The registry under test on either store: the
embedded SQLite store of a data directory, or the session's ``mlflow server``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.clock import VirtualClock
from tools.registry.mlflow import MlflowRegistry

START = 1_800_000_000.0


@pytest.fixture(scope="session")
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded store for the session: its first use runs MLflow's migrations (seconds)."""
    return tmp_path_factory.mktemp("medic-data")


@pytest.fixture(params=["embedded", "server"])
def registry(request: pytest.FixtureRequest, embedded_dir: Path) -> MlflowRegistry:
    clock = VirtualClock(START)
    if request.param == "embedded":
        return MlflowRegistry.embedded(embedded_dir, clock=clock)
    url = request.getfixturevalue("mlflow_server")
    return MlflowRegistry(url, clock=clock)
