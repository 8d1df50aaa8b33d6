"""The remediation tools, declared as data: name, description, typed parameters, risk,
reversibility, how to verify, and how to run against the backends.

Every run returns a ``ToolResult``; backend errors are caught by the executor, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.actions import Action, Risk, ToolResult, ToolStatus
from tools.backends import Backends


class ScaleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replicas: int = Field(ge=0, description="Desired replica count.")


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PurgeCacheParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str = Field(min_length=2, description="Key pattern, e.g. 'recommender:*'.")


Runner = Callable[[Backends, Action], ToolResult]
Previewer = Callable[[Backends, Action], str]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    params: type[BaseModel]
    risk: Risk
    reversible: bool
    verification: str
    run: Runner
    preview: Previewer

    def validate(self, action: Action) -> str | None:
        """The reason the action's parameters do not fit this tool, or None when they do."""
        try:
            self.params.model_validate(action.params)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}"
                for e in exc.errors()
            )
            return f"invalid parameters for {self.name}: {problems}"
        return None


def _scale(backends: Backends, action: Action) -> ToolResult:
    replicas = ScaleParams.model_validate(action.params).replicas
    before = backends.cluster.get_deployment(action.namespace, action.name).replicas
    backends.cluster.scale(action.namespace, action.name, replicas)
    return ToolResult(
        ToolStatus.SUCCEEDED,
        f"scaled {action.name} {before} -> {replicas}",
        {"from": before, "to": replicas},
    )


def _scale_preview(backends: Backends, action: Action) -> str:
    replicas = ScaleParams.model_validate(action.params).replicas
    before = backends.cluster.get_deployment(action.namespace, action.name).replicas
    return f"scale deployment {action.target}: {before} -> {replicas} replicas"


def _restart(backends: Backends, action: Action) -> ToolResult:
    backends.cluster.restart(action.namespace, action.name)
    return ToolResult(ToolStatus.SUCCEEDED, f"restarted {action.name} (rolling)")


def _restart_preview(backends: Backends, action: Action) -> str:
    info = backends.cluster.get_deployment(action.namespace, action.name)
    return f"rollout restart of deployment {action.target} ({info.replicas} pods, one at a time)"


def _rollback(backends: Backends, action: Action) -> ToolResult:
    before, after = backends.cluster.rollback(action.namespace, action.name)
    return ToolResult(
        ToolStatus.SUCCEEDED,
        f"rolled back {action.name} from revision {before} to {after}",
        {"from": before, "to": after},
    )


def _rollback_preview(backends: Backends, action: Action) -> str:
    info = backends.cluster.get_deployment(action.namespace, action.name)
    return (
        f"roll back deployment {action.target} from revision {info.revision} "
        f"to revision {info.revision - 1}"
    )


def _purge(backends: Backends, action: Action) -> ToolResult:
    pattern = PurgeCacheParams.model_validate(action.params).pattern
    keys, freed = backends.cache.purge(pattern)
    return ToolResult(
        ToolStatus.SUCCEEDED,
        f"purged {keys} cache keys matching {pattern} ({freed / 2**30:.1f} GiB freed)",
        {"keys": keys, "bytes_freed": freed},
    )


def _purge_preview(backends: Backends, action: Action) -> str:
    pattern = PurgeCacheParams.model_validate(action.params).pattern
    return f"delete cache keys matching {pattern} (SCAN + UNLINK, never FLUSHALL)"


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="scale",
            description="Set a Deployment's replica count.",
            params=ScaleParams,
            risk=Risk.MEDIUM,
            reversible=True,
            verification="latency and saturation back within the baseline band",
            run=_scale,
            preview=_scale_preview,
        ),
        ToolSpec(
            name="restart",
            description="Rollout restart of a Deployment (new pods, one at a time).",
            params=NoParams,
            risk=Risk.MEDIUM,
            reversible=False,
            verification="error rate and restarts back to baseline",
            run=_restart,
            preview=_restart_preview,
        ),
        ToolSpec(
            name="rollback",
            description="Roll a Deployment back to its previous revision.",
            params=NoParams,
            risk=Risk.HIGH,
            reversible=True,
            verification="the symptom metric back within the baseline band",
            run=_rollback,
            preview=_rollback_preview,
        ),
        ToolSpec(
            name="purge_cache",
            description="Delete cache keys matching a pattern within an allowed key prefix.",
            params=PurgeCacheParams,
            risk=Risk.LOW,
            reversible=False,
            verification="cache memory drops; latency not worse",
            run=_purge,
            preview=_purge_preview,
        ),
    )
}
