"""Interfaces of the systems tools read and change: a cluster, a cache, an alert manager, and for
ML services a model registry and a training pipeline (``tools.registry``).

The simulated cluster implements the first three; ``tools.kube``, ``tools.redis_cache`` and
``tools.alertmanager`` implement them for real. Only the executor calls the write methods, after the
guard and the approval state allow it, and always with ``dry_run=True`` first: a dry run goes as
far as the backend allows (Kubernetes: server-side ``dryRun=All``) and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from tools.errors import BackendUnavailableError
from tools.registry.base import (
    AliasMove,
    ModelRegistry,
    ModelVersion,
    TrainingPipeline,
    TrainingProfile,
    TrainingRun,
)


def template_digest(template: Any) -> str:
    """SHA-256 of a pod template's canonical JSON: equal digests, equal templates."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class DeploymentInfo:
    namespace: str
    name: str
    replicas: int
    ready_replicas: int
    revision: int
    images: tuple[str, ...] = ()
    updated_replicas: int | None = None
    available_replicas: int | None = None
    restarted_at: str | None = None  # the pod template's rollout-restart stamp, if any
    template: str = ""  # a digest of the pod template (what a rollback puts back)


@dataclass(frozen=True)
class Rollout:
    """One revision of a Deployment, from its ReplicaSet: what changed and when."""

    revision: int
    created_at: str
    images: tuple[str, ...]
    replicas: int
    change_cause: str = ""
    # the pod template's labels and annotations (e.g. a model version), minus Kubernetes' own
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RollbackPlan:
    """Where a rollback goes: from the current revision to the previous one, with their images."""

    from_revision: int
    to_revision: int
    from_images: tuple[str, ...] = ()
    to_images: tuple[str, ...] = ()
    to_template: str = ""  # the digest the Deployment's pod template will have


@dataclass(frozen=True)
class PodRestarts:
    pod: str
    container: str
    restarts: int
    last_reason: str | None = None
    last_exit_code: int | None = None
    last_finished_at: str | None = None


@dataclass(frozen=True)
class ClusterEvent:
    """One Kubernetes Event about a service's workload or its pods (OOMKilled, BackOff,
    FailedScheduling, Unhealthy, Evicted, FailedMount...): cluster text, so bounded when read and
    escaped where shown."""

    at: float  # Unix seconds of its last occurrence
    reason: str
    message: str
    kind: str  # of the object it is about: Pod, Deployment, ReplicaSet, StatefulSet
    name: str
    type: str = "Warning"  # or Normal
    count: int = 1


@dataclass(frozen=True)
class PurgeResult:
    keys: int
    bytes_freed: int | None = None  # None when the cache cannot say


@dataclass(frozen=True)
class SilenceRequest:
    matchers: dict[str, str]
    starts_at: str  # RFC 3339
    ends_at: str
    created_by: str
    comment: str
    labels: dict[str, str] = field(default_factory=dict)


class ClusterBackend(Protocol):
    @property
    def name(self) -> str:
        """Which cluster this is (cooldowns and the audit log are kept per cluster)."""
        ...

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo: ...

    def scale(self, namespace: str, name: str, replicas: int, *, dry_run: bool = False) -> int:
        """Set the replica count; returns the count the server reports (or would report)."""
        ...

    def restart(
        self, namespace: str, name: str, *, restarted_at: str, dry_run: bool = False
    ) -> None:
        """Rollout restart: stamp the pod template with ``restarted_at``, as kubectl does."""
        ...

    def rollback(self, namespace: str, name: str, *, dry_run: bool = False) -> RollbackPlan:
        """Put the previous revision's pod template back."""
        ...

    def recent_rollouts(self, namespace: str, name: str, limit: int = 5) -> list[Rollout]: ...

    def pod_restarts(self, namespace: str, name: str) -> list[PodRestarts]: ...

    def recent_events(
        self, namespace: str, name: str, since: float, limit: int = 50
    ) -> list[ClusterEvent]:
        """The Events since ``since`` (Unix seconds) about the workload ``name`` and its pods,
        oldest first, at most ``limit`` (the most recent)."""
        ...

    def workloads(self, namespace: str, limit: int) -> list[str]:
        """Names of the namespace's Deployments and StatefulSets, sorted, at most ``limit``:
        the services an investigation looks at around the alerting one."""
        ...


class CacheBackend(Protocol):
    def purge(self, pattern: str, *, dry_run: bool = False) -> PurgeResult:
        """Delete the keys matching ``pattern`` (a dry run only counts them)."""
        ...


class SilenceBackend(Protocol):
    def silence(self, request: SilenceRequest, *, dry_run: bool = False) -> str:
        """Create a silence; returns its id (a dry run checks the request and returns '')."""
        ...

    def find(self, text: str) -> str | None:
        """The id of a silence whose comment contains ``text`` (Medic marks each silence with
        its proposal), or None."""
        ...


class NotConfigured:
    """Stands in for a cache, alert manager, model registry or training pipeline Medic was not
    given: every use says what to set."""

    def __init__(self, what: str, setting: str) -> None:
        self._what = what
        self._message = f"no {what} configured; set {setting}"

    @property
    def name(self) -> str:
        return f"no {self._what}"

    def purge(self, pattern: str, *, dry_run: bool = False) -> PurgeResult:
        raise BackendUnavailableError(self._message)

    def silence(self, request: SilenceRequest, *, dry_run: bool = False) -> str:
        raise BackendUnavailableError(self._message)

    def find(self, text: str) -> str | None:
        raise BackendUnavailableError(self._message)

    # ModelRegistry
    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        raise BackendUnavailableError(self._message)

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        raise BackendUnavailableError(self._message)

    def training_profile(self, model: str, version: str) -> TrainingProfile | None:
        raise BackendUnavailableError(self._message)

    def set_alias(
        self, model: str, alias: str, version: str, *, dry_run: bool = False
    ) -> AliasMove:
        raise BackendUnavailableError(self._message)

    # TrainingPipeline
    def estimate(self, model: str) -> TrainingRun:
        raise BackendUnavailableError(self._message)

    def start(self, model: str, *, dry_run: bool = False, reference: str = "") -> TrainingRun:
        raise BackendUnavailableError(self._message)

    def status(self, model: str, run_id: str) -> TrainingRun:
        raise BackendUnavailableError(self._message)

    def run_for(self, model: str, reference: str) -> TrainingRun | None:
        raise BackendUnavailableError(self._message)


# Where ``promote_model`` and ``retrain`` say to point Medic when it has no registry or pipeline.
NO_REGISTRY = NotConfigured("model registry", "registry in MEDIC_CONFIG (e.g. an MLflow URI)")
NO_TRAINING = NotConfigured(
    "training pipeline", "training_jobs in the policy (a Kubernetes Job template per model)"
)


@dataclass(frozen=True)
class Backends:
    """What tools act on. The registry and the training pipeline are needed by the MLOps tools
    alone, so the stand-ins that say what to set are their defaults."""

    cluster: ClusterBackend
    cache: CacheBackend
    silences: SilenceBackend
    registry: ModelRegistry = NO_REGISTRY
    training: TrainingPipeline = NO_TRAINING


class NoCluster:
    """Stands in for a cluster Medic has no credentials for, where the tool at hand needs none
    (a silence talks to Alertmanager alone): every use says why there is no cluster."""

    def __init__(self, name: str, why: str) -> None:
        self._name = name
        self._why = why

    @property
    def name(self) -> str:
        return self._name

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise BackendUnavailableError(self._why)

    get_deployment = scale = restart = rollback = recent_rollouts = pod_restarts = _refuse
    workloads = recent_events = _refuse
