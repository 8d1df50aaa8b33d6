"""Stands in for a training pipeline Medic was not given (a real cluster without one configured):
every use says what to set, so ``retrain`` is refused at its dry run, never half-done."""

from __future__ import annotations

from tools.registry.base import RegistryError, TrainingRun


class NoTrainingPipeline:
    """A ``TrainingPipeline`` whose every call raises ``RegistryError(why)``."""

    def __init__(self, why: str) -> None:
        self.why = why

    def estimate(self, model: str) -> TrainingRun:
        raise RegistryError(self.why)

    def start(self, model: str, *, dry_run: bool = False) -> TrainingRun:
        raise RegistryError(self.why)

    def status(self, model: str, run_id: str) -> TrainingRun:
        raise RegistryError(self.why)
