"""Interfaces of the systems tools change: a cluster and a cache.

The simulated cluster implements both; the Kubernetes and Redis adapters implement them for real.
Only the executor calls the write methods, after the guard and the approval state allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DeploymentInfo:
    namespace: str
    name: str
    replicas: int
    ready_replicas: int
    revision: int


class ClusterBackend(Protocol):
    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo: ...

    def list_deployments(self, namespace: str) -> list[DeploymentInfo]: ...

    def scale(self, namespace: str, name: str, replicas: int) -> None: ...

    def restart(self, namespace: str, name: str) -> None: ...

    def rollback(self, namespace: str, name: str) -> tuple[int, int]:
        """Return to the previous revision; returns (from_revision, to_revision)."""
        ...


class CacheBackend(Protocol):
    def purge(self, pattern: str) -> tuple[int, int]:
        """Delete the keys matching ``pattern``; returns (keys deleted, bytes freed)."""
        ...


@dataclass(frozen=True)
class Backends:
    cluster: ClusterBackend
    cache: CacheBackend
