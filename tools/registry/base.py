"""The vocabulary of model registries and the two interfaces every registry adapter implements.

A registry answers four questions an investigation of an ML service asks - which versions exist,
which one an alias (``champion``) names, what a version's training run measured, and what its
training inputs looked like (a ``TrainingProfile``: one histogram per feature, logged as an artifact
when the version was trained) - and makes the one change ``promote_model`` needs: moving an alias.
Starting a training run is a separate interface (``TrainingPipeline``) because where training runs
(an MLflow run in the simulated shop, a Kubernetes Job, a Kubeflow or SageMaker pipeline) is
independent of where versions are registered.

Every write takes ``dry_run``: the dry run checks that the change can be made (the model, version
and alias exist; the pipeline is configured) and changes nothing, as the remediation tools do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# The pod template label and annotation keys by which a real service says what it serves
# (documented in the README): the registered model's name and the version, or the alias it follows.
MODEL_LABEL = "medic.io/model"
VERSION_LABEL = "medic.io/model-version"
ALIAS_LABEL = "medic.io/model-alias"


class RegistryError(Exception):
    """The registry could not answer or refused a change; the message says which and why."""


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached or did not answer in time: a dependency down, not an
    answer about the model."""


class RegistryNotFoundError(RegistryError):
    """The model, version or run asked about does not exist in the registry."""


@dataclass(frozen=True)
class FeatureHistogram:
    """One feature's distribution: counts over bins with the given edges (len(edges) ==
    len(counts) + 1). Live inputs are compared with it by PSI and KS over the same bins."""

    feature: str
    edges: tuple[float, ...]
    counts: tuple[float, ...]


@dataclass(frozen=True)
class TrainingProfile:
    """What a version was trained on: a histogram per input feature and of its outputs
    (predictions) on the training data, when logged."""

    features: tuple[FeatureHistogram, ...]
    predictions: FeatureHistogram | None = None

    def feature(self, name: str) -> FeatureHistogram | None:
        return next((f for f in self.features if f.feature == name), None)


@dataclass(frozen=True)
class ModelVersion:
    """One registered version and the training run that produced it."""

    model: str
    version: str
    created_at: datetime
    run_id: str = ""
    aliases: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)  # the training run's offline metrics
    description: str = ""  # e.g. the training data's window
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServedModel:
    """What a workload serves, read from its pod template (``MODEL_LABEL`` and ``VERSION_LABEL``
    or ``ALIAS_LABEL``): the version is resolved through the registry when only the alias is
    named."""

    model: str
    version: str = ""
    alias: str = ""


@dataclass(frozen=True)
class AliasMove:
    """What ``set_alias`` did (or, on a dry run, would do)."""

    model: str
    alias: str
    previous: str | None  # the version the alias named before; None if it named none
    version: str


@dataclass(frozen=True)
class TrainingRun:
    """A training run started (or, on a dry run, the estimate of one)."""

    model: str
    run_id: str  # empty on a dry run
    status: str  # "started", "finished", "failed", "dry_run"
    estimate_minutes: float  # how long it is expected to take
    estimate_cost: str  # what it costs, in words the proposal shows ("2 CPU-hours on the pool")
    version: str = ""  # the version it registered, once finished


class ModelRegistry(Protocol):
    """A registry of models and their versions (MLflow; SageMaker, Vertex AI, Azure ML)."""

    @property
    def name(self) -> str:
        """Where it is, for notes and the audit log ("mlflow at http://127.0.0.1:5000")."""
        ...

    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        """The model's versions, newest first, at most ``limit``; RegistryError if the model is
        not registered or the registry cannot be reached."""
        ...

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        """The version ``alias`` names, or None when the alias is not set."""
        ...

    def training_profile(self, model: str, version: str) -> TrainingProfile | None:
        """The version's training input profile, or None when its run logged none."""
        ...

    def set_alias(
        self, model: str, alias: str, version: str, *, dry_run: bool = False
    ) -> AliasMove:
        """Point ``alias`` at ``version`` (promote_model); RegistryError if either is unknown."""
        ...


class TrainingPipeline(Protocol):
    """Where a model is retrained: an MLflow run (simulated shop), a Kubernetes Job from the
    policy's template, a Kubeflow or SageMaker pipeline."""

    def estimate(self, model: str) -> TrainingRun:
        """How long a run takes and what it costs, without starting one."""
        ...

    def start(self, model: str, *, dry_run: bool = False, reference: str = "") -> TrainingRun:
        """Start a training run on recent data; its new version is registered when it ends.
        ``reference`` (the proposal executing it) is kept with the run, for ``run_for``."""
        ...

    def status(self, model: str, run_id: str) -> TrainingRun:
        """The run's state now (``finished`` with ``version`` once registered)."""
        ...

    def run_for(self, model: str, reference: str) -> TrainingRun | None:
        """The run ``reference`` started, as it is now; None when it started none. How a
        retrain whose process died between starting the run and recording it is settled
        (tools/reconcile.py)."""
        ...
