"""An in-memory model registry and training pipeline for unit tests: the same answers and
refusals as the MLflow adapter and a real pipeline, without a store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tools.registry.base import (
    AliasMove,
    ModelVersion,
    RegistryNotFoundError,
    TrainingProfile,
    TrainingRun,
)


class MemoryRegistry:
    """Versions, aliases and profiles held in dicts."""

    def __init__(self) -> None:
        self._versions: dict[str, list[ModelVersion]] = {}
        self._aliases: dict[tuple[str, str], str] = {}
        self._profiles: dict[tuple[str, str], TrainingProfile] = {}

    @property
    def name(self) -> str:
        return "in-memory registry"

    def register(
        self,
        model: str,
        *,
        metrics: dict[str, float] | None = None,
        profile: TrainingProfile | None = None,
        created_at: datetime | None = None,
        description: str = "",
    ) -> ModelVersion:
        """Add the next version of ``model`` (versions count from 1, as MLflow's do)."""
        existing = self._versions.setdefault(model, [])
        version = ModelVersion(
            model=model,
            version=str(len(existing) + 1),
            created_at=created_at or datetime.now(UTC),
            run_id=f"run-{model}-{len(existing) + 1}",
            metrics=dict(metrics or {}),
            description=description,
        )
        existing.append(version)
        if profile is not None:
            self._profiles[(model, version.version)] = profile
        return version

    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        if model not in self._versions:
            raise RegistryNotFoundError(f"model {model!r} is not registered")
        newest_first = sorted(self._versions[model], key=lambda v: int(v.version), reverse=True)
        return [self._with_aliases(v) for v in newest_first[:limit]]

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        version = self._aliases.get((model, alias))
        if version is None:
            return None
        return next(v for v in self.versions(model, limit=10**6) if v.version == version)

    def training_profile(self, model: str, version: str) -> TrainingProfile | None:
        return self._profiles.get((model, version))

    def set_alias(
        self, model: str, alias: str, version: str, *, dry_run: bool = False
    ) -> AliasMove:
        if version not in {v.version for v in self.versions(model, limit=10**6)}:
            raise RegistryNotFoundError(f"model {model!r} has no version {version!r}")
        previous = self._aliases.get((model, alias))
        if not dry_run:
            self._aliases[(model, alias)] = version
        return AliasMove(model=model, alias=alias, previous=previous, version=version)

    def _with_aliases(self, version: ModelVersion) -> ModelVersion:
        names = tuple(
            sorted(
                a
                for (m, a), v in self._aliases.items()
                if m == version.model and v == version.version
            )
        )
        return replace(version, aliases=names)


class MemoryTraining:
    """Training runs that finish when the test says so (``finish``): a run's new version is
    registered in ``registry`` then, as a real pipeline registers it when training ends."""

    def __init__(
        self, registry: MemoryRegistry, *, minutes: float = 20.0, cost: str = "2 CPU-hours"
    ) -> None:
        self._registry = registry
        self._minutes = minutes
        self._cost = cost
        self._runs: dict[str, TrainingRun] = {}
        self._references: dict[str, str] = {}  # reference -> run id
        self.started: list[str] = []  # run ids in the order they were started

    def estimate(self, model: str) -> TrainingRun:
        self._registry.versions(model, limit=1)  # an unregistered model cannot be retrained
        return TrainingRun(model, "", "dry_run", self._minutes, self._cost)

    def start(self, model: str, *, dry_run: bool = False, reference: str = "") -> TrainingRun:
        estimate = self.estimate(model)
        if dry_run:
            return estimate
        run_id = f"train-{model}-{len(self._runs) + 1}"
        run = replace(estimate, run_id=run_id, status="started")
        self._runs[run_id] = run
        self.started.append(run_id)
        if reference:
            self._references[reference] = run_id
        return run

    def run_for(self, model: str, reference: str) -> TrainingRun | None:
        run_id = self._references.get(reference)
        return self.status(model, run_id) if run_id else None

    def status(self, model: str, run_id: str) -> TrainingRun:
        run = self._runs.get(run_id)
        if run is None or run.model != model:
            raise RegistryNotFoundError(f"no training run {run_id!r} of model {model!r}")
        return run

    def finish(self, run_id: str, *, failed: bool = False, **register: object) -> TrainingRun:
        """End the run: register its new version (keyword arguments as for ``register``), or
        mark it failed."""
        run = self._runs[run_id]
        if failed:
            done = replace(run, status="failed")
        else:
            version = self._registry.register(run.model, **register)  # type: ignore[arg-type]
            done = replace(run, status="finished", version=version.version)
        self._runs[run_id] = done
        return done
