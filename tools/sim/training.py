"""The simulated shop's model in a real registry: its versions seeded into MLflow when the shop
starts, a training pipeline that trains new ones on recent traffic, and the registry the rest of
Medic sees, which keeps the simulation in step with every alias it moves.

The registry is MLflow itself (the embedded store, or a server): what an investigation reads and
``promote_model`` writes are real MLflow versions, runs, artifacts and aliases; only the traffic
and the click-through behind them are simulated (``tools.sim.models``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from tools.registry.base import (
    AliasMove,
    ModelVersion,
    RegistryError,
    TrainingProfile,
    TrainingRun,
)
from tools.registry.mlflow import MlflowRegistry
from tools.sim.cluster import SimulatedCluster
from tools.sim.models import (
    DAY,
    MINUTE,
    TRAIN_COST,
    TRAIN_MINUTES,
    TRAIN_WINDOW,
    ShopModel,
    VersionSpec,
)

SEED_TAG = "medic.sim.seed"  # on every version the simulated shop registered: its seed's digest
REFERENCE_TAG = "medic.proposal"  # the proposal that started a run
RETRAINED = "retrain"  # the tag's value on versions its pipeline trained


def _when(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def seed_signature(shop: ShopModel) -> str:
    """What the shop's seed versions are, independent of when it starts: equal signatures mean
    the registry already holds them (a warm start writes nothing but the alias)."""
    text = repr(
        [(s.trained_from_days, s.trained_to_days, s.quality, s.auc) for s in shop.play.seed]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seed_registry(registry: MlflowRegistry, shop: ShopModel, now: float) -> bool:
    """Put the shop's seed versions in ``registry`` unless it holds them already, then point the
    alias where the scenario says it has pointed (each move tagged with when). Returns whether
    versions were written. A model of that name that the shop did not register is refused,
    never overwritten."""
    signature = seed_signature(shop)
    seeds = len(shop.play.seed)
    try:
        existing = registry.versions(shop.name, limit=100)
    except RegistryError as exc:
        if "is not registered" not in str(exc):
            raise
        existing = []
    if existing and any(SEED_TAG not in v.tags for v in existing):
        raise RegistryError(
            f"{registry.name}: model {shop.name!r} is not the simulated shop's (a version has no "
            f"{SEED_TAG} tag); point the simulated cluster at another registry"
        )
    warm = len(existing) == seeds and all(v.tags[SEED_TAG] == signature for v in existing)
    if existing and not warm:  # another scenario's seed, or versions a retrain added
        with_client = registry.client()
        try:
            with_client.delete_registered_model(shop.name)
        except Exception as exc:
            raise RegistryError(f"{registry.name}: resetting {shop.name!r}: {exc}") from exc
        registry.forget(shop.name)
    if not warm:
        for number in sorted(shop.versions, key=int)[:seeds]:
            spec = shop.versions[number]
            registry.log_training_run(
                shop.name,
                params=_params(spec, now),
                metrics=spec.metrics,
                profile=shop.profile(number),
                description=_description(spec, now),
                tags={SEED_TAG: signature},
            )
    for at, version in shop.moves:
        if at <= now:
            registry.set_alias(shop.name, shop.alias, version, at=_when(at))
    return not warm


def _params(spec: VersionSpec, now: float) -> dict[str, str]:
    return {
        "pipeline": spec.note,
        "window_days": f"{(spec.end - spec.start) / DAY:.2f}",
        "window_ended_days_ago": f"{(now - spec.end) / DAY:.2f}",
    }


def _description(spec: VersionSpec, now: float) -> str:
    days = (spec.end - spec.start) / DAY
    if days >= 1:
        span = f"{days:.0f} days of traffic ending {(now - spec.end) / DAY:.0f} days ago"
    else:
        span = f"the {(spec.end - spec.start) / MINUTE:.0f} minutes of traffic before it started"
    return f"{spec.note}: trained on {span}"


@dataclass
class _Run:
    spec: VersionSpec
    finishes: float
    version: str = ""


class ShopTraining:
    """The simulated shop's ``TrainingPipeline``: a run trains on the last minutes of traffic
    (an MLflow run that starts at once), and once TRAIN_MINUTES of simulated time have passed it
    logs its metrics and training profile, registers the new version and moves the alias to it -
    the pipeline deploys, as the shop's weekly CT does."""

    def __init__(self, registry: MlflowRegistry, sim: SimulatedCluster) -> None:
        self.registry = registry
        self.sim = sim
        self._runs: dict[str, _Run] = {}
        self._seeded = False

    def ready(self) -> None:
        """Seed the registry for the shop on first use (building the wiring writes nothing), and
        register the runs that have finished since the last look."""
        if not self._seeded and self.sim.shop_model is not None:
            seed_registry(self.registry, self.sim.shop_model, self.sim.clock.now())
        self._seeded = True
        self.settle()

    def _shop(self, model: str) -> ShopModel:
        shop = self.sim.shop_model
        if shop is None or shop.name != model:
            served = f"only {shop.name!r}" if shop else "no model"
            raise RegistryError(f"the simulated shop trains {served}, not {model[:100]!r}")
        return shop

    def estimate(self, model: str) -> TrainingRun:
        self._shop(model)
        self.ready()
        return TrainingRun(model, "", "dry_run", TRAIN_MINUTES, TRAIN_COST)

    def start(self, model: str, *, dry_run: bool = False, reference: str = "") -> TrainingRun:
        shop = self._shop(model)
        if dry_run:
            return self.estimate(model)
        self.ready()
        now = self.sim.clock.now()
        spec = shop.train(now)
        params = _params(spec, now) | {"window_minutes": f"{TRAIN_WINDOW / MINUTE:.0f}"}
        tags = {REFERENCE_TAG: reference[:250]} if reference else {}
        run_id = self.registry.start_run(model, params, tags=tags)
        self._runs[run_id] = _Run(spec, now + TRAIN_MINUTES * MINUTE)
        return TrainingRun(model, run_id, "started", TRAIN_MINUTES, TRAIN_COST)

    def run_for(self, model: str, reference: str) -> TrainingRun | None:
        """The run tagged with ``reference`` in MLflow (the tag outlives this object)."""
        self._shop(model)
        run_id = self.registry.run_tagged(REFERENCE_TAG, reference[:250])
        if run_id is None:
            return None
        if run_id in self._runs:
            return self.status(model, run_id)
        return TrainingRun(model, run_id, "unknown", TRAIN_MINUTES, TRAIN_COST)

    def status(self, model: str, run_id: str) -> TrainingRun:
        self.ready()
        run = self._runs.get(run_id)
        if run is None:
            raise RegistryError(f"no training run {run_id[:64]!r} of {model[:100]!r} started here")
        state = "finished" if run.version else "started"
        return TrainingRun(model, run_id, state, TRAIN_MINUTES, TRAIN_COST, version=run.version)

    def settle(self) -> None:
        """Register the runs whose simulated training time has passed, and deploy them."""
        shop = self.sim.shop_model
        now = self.sim.clock.now()
        for run_id, run in self._runs.items():
            if run.version or run.finishes > now or shop is None:
                continue
            version = self.registry.finish_run(
                shop.name,
                run_id,
                metrics=run.spec.metrics,
                profile=shop.profile(run.spec.version),
                description=_description(run.spec, run.finishes),
                tags={SEED_TAG: RETRAINED},
            )
            if version.version != run.spec.version:
                raise RegistryError(
                    f"{self.registry.name}: the retrain registered version {version.version} of "
                    f"{shop.name!r}, the shop expected {run.spec.version}"
                )
            run.version = version.version
            self.registry.set_alias(shop.name, shop.alias, version.version, at=_when(run.finishes))


class ShopRegistry:
    """The registry Medic sees on the simulated cluster: MLflow, with finished retraining runs
    registered before every read, and every alias move also made in the simulation (the
    recommender serves what the alias names)."""

    def __init__(self, registry: MlflowRegistry, training: ShopTraining) -> None:
        self.registry = registry
        self.training = training

    @property
    def name(self) -> str:
        return self.registry.name

    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        self.training.ready()
        return self.registry.versions(model, limit)

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        self.training.ready()
        return self.registry.alias(model, alias)

    def alias_since(self, version: ModelVersion, alias: str) -> datetime | None:
        return self.registry.alias_since(version, alias)

    def training_profile(self, model: str, version: str) -> TrainingProfile | None:
        self.training.ready()
        return self.registry.training_profile(model, version)

    def set_alias(
        self, model: str, alias: str, version: str, *, dry_run: bool = False
    ) -> AliasMove:
        self.training.ready()
        move = self.registry.set_alias(model, alias, version, dry_run=dry_run)
        shop = self.training.sim.shop_model
        if not dry_run and shop is not None and (model, alias) == (shop.name, shop.alias):
            shop.move(self.training.sim.clock.now(), version)
        return move


def shop_registry(registry: MlflowRegistry, sim: SimulatedCluster) -> ShopRegistry:
    """The simulated shop's registry and pipeline (``.training``) on ``registry``, seeded for
    ``sim``'s scenario at their first use (nothing is written for a scenario whose services
    serve no model). Alias moves are stamped with the simulation's clock."""
    registry.clock = sim.clock
    return ShopRegistry(registry, ShopTraining(registry, sim))
