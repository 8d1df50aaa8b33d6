"""An in-memory model registry for unit tests: the same answers and refusals as the MLflow
adapter, without a store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tools.registry.base import AliasMove, ModelVersion, RegistryError, TrainingProfile


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
            raise RegistryError(f"model {model!r} is not registered")
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
            raise RegistryError(f"model {model!r} has no version {version!r}")
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
