"""The remediation tools, declared as data: name, description, typed parameters, risk,
reversibility, how to verify, and how to run against the backends.

Every tool runs in two modes: ``dry_run=True`` asks the backend what would happen and changes
nothing (the preview shown with a proposal, and the check right before a real write), and
``dry_run=False`` does it. Either way the answer is a ``ToolResult``; backend errors are raised as
``ToolError`` and turned into failed results by the executor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tools.actions import Action, Risk, ToolResult, ToolStatus
from tools.backends import Backends, SilenceRequest
from tools.model_tools import (
    PromoteModelParams,
    RetrainParams,
    pin_promotion,
    promote_model,
    retrain,
)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Beyond these a value is a typo or an attack, whatever a policy allows: a silence of more than
# a year cannot be given an end time a person can read (year 1903351 was a traceback).
MAX_REPLICAS = 1_000_000
MAX_SILENCE_MINUTES = 366 * 24 * 60


class ScaleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replicas: int = Field(ge=0, le=MAX_REPLICAS, description="Desired replica count.")


class PurgeCacheParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str = Field(
        min_length=2,
        description="Redis key pattern within an allowed prefix, e.g. 'recommender:*'.",
    )


# A Prometheus label name: nothing else can be a matcher's name, so `service=~` or `namespace!`
# cannot smuggle an operator in (every matcher Medic sends is a literal equality).
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,127}")


class SilenceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: dict[str, str] = Field(
        min_length=1,
        max_length=16,
        description="Label equality matchers (literal, never regex): the target's namespace and "
        "workload, e.g. {'namespace': 'shop', 'service': 'y', 'alertname': 'X'}.",
    )
    duration_minutes: int = Field(
        ge=1, le=MAX_SILENCE_MINUTES, description="How long the silence lasts (a year at most)."
    )
    comment: str = Field(default="", max_length=500, description="Why; shown in Alertmanager.")

    @field_validator("matchers")
    @classmethod
    def _literal_equality(cls, matchers: dict[str, str]) -> dict[str, str]:
        for name, value in matchers.items():
            if not LABEL_NAME.fullmatch(name):
                raise ValueError(
                    f"matcher name {name[:40]!r} is not a label name (letters, digits, _; "
                    "matchers are literal equalities, no =~ or !=)"
                )
            if not value or len(value) > 1024:
                raise ValueError(f"matcher {name} needs a value of 1 to 1024 characters")
        return matchers


class RolloutsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=5, ge=1, le=20, description="How many revisions to show.")


@dataclass(frozen=True)
class ToolContext:
    """What a run needs besides the action: the backends, the time (fixed for the whole execution,
    so a retried restart sends the same annotation), who asked, and the proposal it belongs to."""

    backends: Backends
    now: float
    actor: str = "medic"
    reference: str = ""


Runner = Callable[[ToolContext, Action, bool], ToolResult]
# Writes what an action leaves to be resolved (promote_model's "the previous version") into its
# parameters when it is proposed, so the approval's digest binds exactly what was shown.
Pinner = Callable[[Backends, Action], Action]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    params: type[BaseModel]
    risk: Risk
    reversible: bool
    verification: str
    run: Runner
    read_only: bool = False
    # Whether the tool reads or changes the cluster; the guard asks the cluster about the
    # target only then (a silence talks to Alertmanager alone, so it needs no cluster access).
    touches_cluster: bool = True
    pin: Pinner | None = None

    def pinned(self, backends: Backends, action: Action) -> Action:
        """``action`` as it will be proposed: with its defaults resolved when the tool pins."""
        return self.pin(backends, action) if self.pin else action

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


def _result(dry_run: bool, summary: str, **details: object) -> ToolResult:
    status = ToolStatus.DRY_RUN if dry_run else ToolStatus.SUCCEEDED
    return ToolResult(status, summary, dict(details))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _scale(ctx: ToolContext, action: Action, dry_run: bool) -> ToolResult:
    replicas = ScaleParams.model_validate(action.params).replicas
    cluster = ctx.backends.cluster
    before = cluster.get_deployment(action.namespace, action.name).replicas
    after = cluster.scale(action.namespace, action.name, replicas, dry_run=dry_run)
    verb = "scale deployment" if dry_run else "scaled deployment"
    return _result(
        dry_run,
        f"{verb} {action.target}: {before} -> {after} replicas",
        **{"from": before, "to": after},
    )


def _restart(ctx: ToolContext, action: Action, dry_run: bool) -> ToolResult:
    info = ctx.backends.cluster.get_deployment(action.namespace, action.name)
    at = _iso(ctx.now)
    ctx.backends.cluster.restart(action.namespace, action.name, restarted_at=at, dry_run=dry_run)
    verb = "rollout restart of" if dry_run else "restarted"
    return _result(
        dry_run,
        f"{verb} deployment {action.target} ({info.replicas} pods, rolling; restartedAt {at})",
        restarted_at=at,
    )


def _rollback(ctx: ToolContext, action: Action, dry_run: bool) -> ToolResult:
    plan = ctx.backends.cluster.rollback(action.namespace, action.name, dry_run=dry_run)

    def rev(number: int, images: tuple[str, ...]) -> str:
        return f"revision {number}" + (f" ({', '.join(images)})" if images else "")

    verb = "roll back" if dry_run else "rolled back"
    return _result(
        dry_run,
        f"{verb} deployment {action.target} from {rev(plan.from_revision, plan.from_images)} "
        f"to {rev(plan.to_revision, plan.to_images)}",
        **{"from": plan.from_revision, "to": plan.to_revision, "template": plan.to_template},
    )


def _purge(ctx: ToolContext, action: Action, dry_run: bool) -> ToolResult:
    pattern = PurgeCacheParams.model_validate(action.params).pattern
    purged = ctx.backends.cache.purge(pattern, dry_run=dry_run)
    size = "" if purged.bytes_freed is None else f", {purged.bytes_freed / 2**20:.1f} MiB"
    if dry_run:
        summary = f"delete {purged.keys} cache keys matching {pattern}{size} (SCAN + UNLINK)"
    else:
        summary = f"purged {purged.keys} cache keys matching {pattern}{size}"
    return _result(dry_run, summary, keys=purged.keys, bytes_freed=purged.bytes_freed)


def silence_marker(proposal_id: str) -> str:
    """What a silence Medic creates for a proposal carries in its comment: how an interrupted
    execution finds it afterwards (tools/reconcile.py)."""
    return f"(proposal {proposal_id})"


def _silence(ctx: ToolContext, action: Action, dry_run: bool) -> ToolResult:
    params = SilenceParams.model_validate(action.params)
    ends = ctx.now + timedelta(minutes=params.duration_minutes).total_seconds()
    comment = params.comment or f"Medic: remediation of {action.target}"
    if ctx.reference:
        comment += f" {silence_marker(ctx.reference)}"
    request = SilenceRequest(
        matchers=params.matchers,
        starts_at=_iso(ctx.now),
        ends_at=_iso(ends),
        created_by=ctx.actor,
        comment=comment,
    )
    silence_id = ctx.backends.silences.silence(request, dry_run=dry_run)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(params.matchers.items()))
    if dry_run:
        summary = f"silence alerts {{{shown}}} for {params.duration_minutes} min until {_iso(ends)}"
    else:
        summary = f"silenced alerts {{{shown}}} until {_iso(ends)} (silence {silence_id})"
    return _result(dry_run, summary, silence_id=silence_id, ends_at=_iso(ends))


def _status(ctx: ToolContext, action: Action, _dry_run: bool) -> ToolResult:
    info = ctx.backends.cluster.get_deployment(action.namespace, action.name)
    images = ", ".join(info.images) or "unknown image"
    return ToolResult(
        ToolStatus.SUCCEEDED,
        f"deployment {action.target}: {info.ready_replicas}/{info.replicas} ready, "
        f"revision {info.revision}, {images}",
        {"replicas": info.replicas, "ready": info.ready_replicas, "revision": info.revision},
    )


def _rollouts(ctx: ToolContext, action: Action, _dry_run: bool) -> ToolResult:
    limit = RolloutsParams.model_validate(action.params).limit
    rollouts = ctx.backends.cluster.recent_rollouts(action.namespace, action.name, limit)
    lines = [
        f"revision {r.revision} at {r.created_at}: {', '.join(r.images)}"
        + (f" ({r.change_cause})" if r.change_cause else "")
        for r in rollouts
    ]
    return ToolResult(
        ToolStatus.SUCCEEDED,
        f"recent rollouts of {action.target}: " + ("; ".join(lines) or "none recorded"),
        {"revisions": [r.revision for r in rollouts]},
    )


def _restarts(ctx: ToolContext, action: Action, _dry_run: bool) -> ToolResult:
    pods = ctx.backends.cluster.pod_restarts(action.namespace, action.name)
    restarting = [p for p in pods if p.restarts]
    lines = [
        f"{p.pod}/{p.container}: {p.restarts} restarts"
        + (f", last {p.last_reason} (exit {p.last_exit_code})" if p.last_reason else "")
        for p in restarting
    ]
    return ToolResult(
        ToolStatus.SUCCEEDED,
        f"pod restarts of {action.target}: " + ("; ".join(lines) or f"none in {len(pods)} pods"),
        {"restarts": sum(p.restarts for p in pods), "pods": len(pods)},
    )


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="scale",
            description="Set a Deployment's replica count (shows current -> new).",
            params=ScaleParams,
            risk=Risk.MEDIUM,
            reversible=True,
            verification="latency and saturation back within the baseline band",
            run=_scale,
        ),
        ToolSpec(
            name="restart",
            description="Rollout restart of a Deployment (new pods, one at a time), like "
            "`kubectl rollout restart`.",
            params=NoParams,
            risk=Risk.MEDIUM,
            reversible=False,
            verification="error rate and restarts back to baseline",
            run=_restart,
        ),
        ToolSpec(
            name="rollback",
            description="Roll a Deployment back to its previous revision (the previous "
            "ReplicaSet's pod template).",
            params=NoParams,
            risk=Risk.HIGH,
            reversible=True,
            verification="the symptom metric back within the baseline band",
            run=_rollback,
        ),
        ToolSpec(
            name="purge_cache",
            description="Delete Redis keys matching a pattern within an allowed key prefix "
            "(SCAN + UNLINK in batches, never FLUSHALL).",
            params=PurgeCacheParams,
            risk=Risk.LOW,
            reversible=False,
            verification="cache memory drops; latency not worse",
            run=_purge,
            touches_cluster=False,
        ),
        ToolSpec(
            name="silence",
            description="Create an Alertmanager silence for the incident's alert matchers.",
            params=SilenceParams,
            risk=Risk.LOW,
            reversible=True,
            verification="the silence is active in Alertmanager",
            run=_silence,
            touches_cluster=False,
        ),
        ToolSpec(
            name="promote_model",
            description="Move a registered model's alias (default champion) to another version: "
            "the one before its current one unless a version is named. The service follows the "
            "alias.",
            params=PromoteModelParams,
            risk=Risk.MEDIUM,
            reversible=True,
            verification="the alias names the version and the quality proxy recovers",
            run=promote_model,
            pin=pin_promotion,
        ),
        ToolSpec(
            name="retrain",
            description="Start the model's training pipeline on recent data; the new version is "
            "registered when it ends (the proposal says how long and what it costs).",
            params=RetrainParams,
            risk=Risk.MEDIUM,
            reversible=False,
            verification="the run finished, its version is registered and serving, and the "
            "quality proxy recovers",
            run=retrain,
        ),
        ToolSpec(
            name="deployment_status",
            description="Replicas, readiness, revision and images of a Deployment.",
            params=NoParams,
            risk=Risk.NONE,
            reversible=True,
            verification="read-only",
            run=_status,
            read_only=True,
        ),
        ToolSpec(
            name="recent_rollouts",
            description="The latest revisions of a Deployment: when, which images, why.",
            params=RolloutsParams,
            risk=Risk.NONE,
            reversible=True,
            verification="read-only",
            run=_rollouts,
            read_only=True,
        ),
        ToolSpec(
            name="pod_restarts",
            description="Restart counts and last termination reasons of a Deployment's pods.",
            params=NoParams,
            risk=Risk.NONE,
            reversible=True,
            verification="read-only",
            run=_restarts,
            read_only=True,
        ),
    )
}

WRITE_TOOLS = tuple(name for name, spec in TOOLS.items() if not spec.read_only)
