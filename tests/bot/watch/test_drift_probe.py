"""The watch's drift probe on the simulated shop: a service that serves no model costs one
rollout read and finds nothing; a registry that cannot answer is raised (the watch notes the
failed check once), never taken for "no drift"."""

from __future__ import annotations

import pytest

from bot.watch.drift import drift_probe
from bot.watch.findings import Target
from tools.clock import VirtualClock
from tools.registry import MemoryRegistry, ModelVersion, RegistryError
from tools.sim import SCENARIOS, SimulatedCluster

START = 1_800_000_000.0
RECOMMENDER = Target("shop", "recommender")


class DownRegistry(MemoryRegistry):
    def alias(self, model: str, alias: str) -> ModelVersion | None:
        raise RegistryError("mlflow at http://127.0.0.1:9: cannot reach the server")


def test_a_service_without_a_model_finds_no_drift_and_asks_no_registry() -> None:
    sim = SimulatedCluster(SCENARIOS["input-size-surge"], VirtualClock(START))
    probe = drift_probe(sim, DownRegistry(), sim, 900.0, 50)
    assert probe(RECOMMENDER, START) == []  # the down registry was never asked


def test_a_registry_down_is_a_failed_check_not_a_quiet_one() -> None:
    sim = SimulatedCluster(SCENARIOS["model-drift"], VirtualClock(START))
    probe = drift_probe(sim, DownRegistry(), sim, 900.0, 50)
    with pytest.raises(RuntimeError, match=r"drift of shop/recommender: .*cannot reach"):
        probe(RECOMMENDER, START)
