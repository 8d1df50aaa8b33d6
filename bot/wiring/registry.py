"""The model registry and training pipeline of a process: MLflow from the ``registry`` settings
(embedded in the data directory by default), and on the simulated cluster the shop's model in it
with the simulated pipeline. Building them connects to nothing; the first use does."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from tools.clock import Clock
from tools.registry import MlflowRegistry, embedded_store
from tools.sim import SimulatedCluster
from tools.sim.training import ShopRegistry, shop_registry


def model_store(settings: Settings, data_dir: Path, clock: Clock) -> MlflowRegistry:
    """MLflow at ``registry.tracking_uri`` (a team's server or database), else the embedded
    store in ``data_dir`` (``<data_dir>/mlflow``), bounded by ``registry.timeout_seconds``."""
    r = settings.registry
    if r.tracking_uri:
        return MlflowRegistry(
            r.tracking_uri, r.registry_uri, timeout_seconds=r.timeout_seconds, clock=clock
        )
    uri, artifacts = embedded_store(data_dir)
    artifacts.mkdir(parents=True, exist_ok=True)
    return MlflowRegistry(
        uri, r.registry_uri, artifacts=artifacts, timeout_seconds=r.timeout_seconds, clock=clock
    )


def sim_registry(settings: Settings, data_dir: Path, sim: SimulatedCluster) -> ShopRegistry:
    """The simulated shop's model in the configured registry, on the simulation's clock; its
    ``training`` is the shop's pipeline."""
    return shop_registry(model_store(settings, data_dir, sim.clock), sim)
