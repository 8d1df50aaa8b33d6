"""The MLOps remediation tools: ``promote_model`` moves a registered model's alias (back one
version by default) and ``retrain`` starts the model's training pipeline.

They act on the model registry and the training pipeline (``Backends.registry`` /
``Backends.training``), not on the cluster, but target the service that serves the model, so the
guard's namespaces, workloads, approvers and cooldowns apply to them as to a scale. What they
change is pinned when proposed (:func:`pin_promotion`): the approval's digest binds the exact
versions shown ("from 3 to 2"), and a registry that moved in between refuses the write rather than
carrying out something nobody saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tools.actions import Action, ToolResult, ToolStatus
from tools.errors import (
    ConflictError,
    DependencyUnavailableError,
    InvalidRequestError,
    TargetNotFoundError,
    ToolError,
)
from tools.registry.base import (
    AliasMove,
    ModelRegistry,
    ModelVersion,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnavailableError,
)

if TYPE_CHECKING:
    from tools.backends import Backends
    from tools.catalog import ToolContext

# Registered model names: MLflow allows almost any text, so only what cannot be shown on one line
# (control characters) or bounded is refused; the name is escaped wherever it is shown.
MAX_MODEL_NAME = 256
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
VERSION = re.compile(r"[A-Za-z0-9._-]{1,64}")
# How many versions are read to find the one before the alias's: a model with more has its
# previous version among the newest anyway.
VERSIONS_READ = 100
SERVING_ALIAS = "champion"  # the alias a retrained version is served under (the pipeline moves it)
MAX_SHOWN = 300  # a registry's or pipeline's own words, cut to one line of this many characters


VersionText = Annotated[str, StringConstraints(pattern=f"^{VERSION.pattern}$")]


def _version(value: object) -> object:
    """``--param version=2`` reads as the number 2; registries number versions as text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ModelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(
        min_length=1, max_length=MAX_MODEL_NAME, description="The registered model's name."
    )

    @field_validator("model")
    @classmethod
    def _one_line(cls, model: str) -> str:
        if CONTROL.search(model):
            raise ValueError("a model name cannot contain control characters")
        return model


class PromoteModelParams(ModelParams):
    alias: str = Field(default="champion", pattern=ALIAS.pattern, description="The alias moved.")
    version: VersionText | None = Field(
        default=None,
        description="The version the alias will name; default: the one before its current one.",
    )
    from_version: VersionText | None = Field(
        default=None,
        description="The version the alias must name now (set when proposed): if it moved, "
        "the change is refused and needs a new proposal.",
    )

    _versions = field_validator("version", "from_version", mode="before")(_version)


class RetrainParams(ModelParams):
    pass


def one_line(text: object) -> str:
    """A registry's or pipeline's message as one bounded line (they may be multi-line, long,
    or carry a server's stack trace)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= MAX_SHOWN else flat[: MAX_SHOWN - 1] + "\u2026"


def unreachable(exc: BaseException) -> DependencyUnavailableError:
    """The registry (or pipeline) down, in the words every front end shows after "not done:"."""
    return DependencyUnavailableError(
        f"the model registry could not be reached ({one_line(exc)})", may_have_applied=True
    )


@contextmanager
def registry_errors() -> Iterator[None]:
    """The registry's and pipeline's failures as tool errors (the executor's failed result): a
    registry that cannot be reached is a dependency down (transient, "not done"), one that
    answered "no such model or version" names what is missing, anything else is its refusal."""
    try:
        yield
    except RegistryUnavailableError as exc:
        raise unreachable(exc) from exc
    except RegistryNotFoundError as exc:
        raise TargetNotFoundError(one_line(exc)) from exc
    except RegistryError as exc:
        raise ToolError(one_line(exc)) from exc
    except (ConnectionError, TimeoutError, OSError) as exc:  # an adapter's, untranslated
        raise unreachable(exc) from exc


def previous_version(registry: ModelRegistry, model: str, current: ModelVersion) -> str:
    """The version registered just before ``current``: where "go back one version" goes."""
    versions = registry.versions(model, limit=VERSIONS_READ)  # newest first
    numbers = [v.version for v in versions]
    if current.version not in numbers:
        raise ConflictError(
            f"version {current.version} of {model} is not among its {len(numbers)} newest; "
            "name the version to promote"
        )
    older = numbers[numbers.index(current.version) + 1 :]
    if not older:
        raise InvalidRequestError(
            f"version {current.version} is the oldest of {model}: there is no previous version"
        )
    return older[0]


def _resolve(registry: ModelRegistry, params: PromoteModelParams) -> tuple[str | None, str]:
    """(the version the alias names now, the version it will name)."""
    current = registry.alias(params.model, params.alias)
    if params.from_version is not None and (
        current is None or current.version != params.from_version
    ):
        now = f"version {current.version}" if current else "no version"
        raise ConflictError(
            f"alias {params.alias} of {params.model} names {now} now, not version "
            f"{params.from_version} as shown when proposed; propose again"
        )
    if params.version is not None:
        return (current.version if current else None), params.version
    if current is None:
        raise InvalidRequestError(
            f"alias {params.alias} of {params.model} names no version; name the version to promote"
        )
    return current.version, previous_version(registry, params.model, current)


def _set_alias(
    registry: ModelRegistry, params: PromoteModelParams, version: str, dry_run: bool
) -> AliasMove:
    """Move the alias; a version the registry does not know is named as missing, in one
    sentence whatever the adapter's words ("version 9 of X does not exist")."""
    try:
        return registry.set_alias(params.model, params.alias, version, dry_run=dry_run)
    except RegistryNotFoundError as exc:
        try:
            registry.versions(params.model, limit=1)  # the model is there: the version is not
        except RegistryError:
            raise exc from None
        raise TargetNotFoundError(
            f"version {version} of {one_line(params.model)} does not exist"
        ) from exc


def pin_promotion(backends: Backends, action: Action) -> Action:
    """``action`` with the versions it would move between written into its parameters, so the
    proposal's digest binds them. Left as it is when the registry cannot say (the dry run then
    reports why)."""
    try:
        params = PromoteModelParams.model_validate(action.params)
        with registry_errors():
            current, target = _resolve(backends.registry, params)
    except (ToolError, ValueError):
        return action
    pinned = dict(action.params) | {"alias": params.alias, "version": target}
    if current is not None:
        pinned["from_version"] = current
    return replace(action, params=pinned)


def promote_model(ctx: ToolContext, action: Action, dry_run: bool) -> ToolResult:
    params = PromoteModelParams.model_validate(action.params)
    registry = ctx.backends.registry
    with registry_errors():
        current, target = _resolve(registry, params)
        if current == target:
            raise InvalidRequestError(
                f"alias {params.alias} of {params.model} already names version {target}"
            )
        move = _set_alias(registry, params, target, dry_run)
    was = f"version {move.previous}" if move.previous else "no version"
    verb = "move" if dry_run else "moved"
    undo = f"; reversible: promote {move.previous} again" if move.previous else ""
    summary = (
        f"{verb} alias {move.alias} of model {one_line(move.model)} from {was} to version "
        f"{move.version} (served by {action.target}{undo})"
    )
    status = ToolStatus.DRY_RUN if dry_run else ToolStatus.SUCCEEDED
    return ToolResult(
        status,
        summary,
        {"model": move.model, "alias": move.alias, "from": move.previous, "to": move.version},
    )


def _newest(registry: ModelRegistry, model: str) -> str | None:
    """The newest registered version before the run: verification looks for a newer one. None
    when the registry cannot say (the run does not depend on it)."""
    try:
        with registry_errors():
            versions = registry.versions(model, limit=1)
    except ToolError:
        return None
    return versions[0].version if versions else None


def retrain(ctx: ToolContext, action: Action, dry_run: bool) -> ToolResult:
    model = RetrainParams.model_validate(action.params).model
    pipeline = ctx.backends.training
    with registry_errors():
        estimate = pipeline.estimate(model)
        if dry_run:
            pipeline.start(model, dry_run=True)
            run = estimate
        else:
            # the run carries the proposal, so an interrupted execution can be found by it
            run = pipeline.start(model, reference=ctx.reference)
    cost = (
        f"about {estimate.estimate_minutes:g} min, {one_line(estimate.estimate_cost)}"
        if estimate.estimate_cost
        else f"about {estimate.estimate_minutes:g} min"
    )
    if dry_run:
        summary = f"start a training run of model {one_line(model)} on recent data ({cost})"
        status = ToolStatus.DRY_RUN
    else:
        summary = (
            f"started training run {one_line(run.run_id)} of model {one_line(model)} on recent "
            f"data ({cost})"
        )
        status = ToolStatus.SUCCEEDED
    return ToolResult(
        status,
        summary,
        {
            "model": model,
            "newest": _newest(ctx.backends.registry, model),
            "run_id": run.run_id,
            "minutes": estimate.estimate_minutes,
            "cost": one_line(estimate.estimate_cost),
        },
    )
