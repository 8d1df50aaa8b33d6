"""Shared fixtures: an isolated environment for every test, the embedding model loaded once, and
one real ``mlflow server`` for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

START = 1_800_000_000.0


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No MEDIC_* or SLACK_* variable leaks in from the developer's shell; data goes to tmp.
    MEDIC_CI stays: it tells the service launchers to fail, not skip, when a binary is missing."""
    for key in list(os.environ):
        if key.startswith(("MEDIC_", "SLACK_")) and key != "MEDIC_CI":
            monkeypatch.delenv(key)
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "data"))
    kept = {k for k in os.environ if k.startswith(("MEDIC_", "SLACK_"))}
    yield
    # A variable a test set in os.environ itself (not through monkeypatch) ends with it, or it
    # would reach session fixtures set up later (a seeded data directory failing to load).
    for key in [k for k in os.environ if k.startswith(("MEDIC_", "SLACK_")) and k not in kept]:
        del os.environ[key]


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedding:
    model = MiniLMEmbedding()
    model.warm_up()
    return model


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def sim(clock: VirtualClock) -> SimulatedCluster:
    """The demo's simulated cluster, 20 minutes into the input-size surge."""
    return SimulatedCluster(SCENARIOS["input-size-surge"], clock)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of one real ``mlflow server`` for the session (tests/services/mlflow_server.py)."""
    from tests.services.mlflow_server import running_mlflow

    with running_mlflow(tmp_path_factory.mktemp("mlflow-server")) as url:
        yield url
