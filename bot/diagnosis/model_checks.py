"""What a model remedy is judged by besides the symptom metrics: after ``promote_model`` the
alias names the version it was moved to; after ``retrain`` a version newer than the run's start
is registered (the pipeline registers it when training ends) and the alias serves it. The quality
proxy's recovery is judged with the other metrics (``verification.with_model_checks``).

Pure over the registry's answers; a registry that cannot answer is a check that did not hold,
saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages
from tools.errors import ToolError
from tools.model_tools import SERVING_ALIAS, one_line, registry_errors
from tools.proposals import Proposal
from tools.registry.base import ModelRegistry

MODEL_TOOLS = ("promote_model", "retrain")


@dataclass(frozen=True)
class StateCheck:
    """One fact about the registry after a model remedy, and whether it held."""

    key: str
    description: str
    recovered: bool
    text: str


def model_checks(registry: ModelRegistry, proposal: Proposal) -> list[StateCheck]:
    """The registry facts that must hold after ``proposal`` (a succeeded model remedy)."""
    try:
        with registry_errors():
            if proposal.action.tool == "promote_model":
                return [_promoted(registry, proposal)]
            if proposal.action.tool == "retrain":
                return _retrained(registry, proposal)
    except ToolError as exc:
        text = messages.VERIFY_REGISTRY_DOWN.format(error=exc)
        return [StateCheck("model:registry", "model registry", False, text)]
    return []


def _promoted(registry: ModelRegistry, proposal: Proposal) -> StateCheck:
    params = proposal.action.params
    model, alias = str(params["model"]), str(params.get("alias") or "champion")
    want = str(params.get("version") or proposal.expected.get("to") or "")
    current = registry.alias(model, alias)
    have = current.version if current else None
    shown = f"alias {alias} of {one_line(model)}"
    name = one_line(model)
    if have == want:
        text = messages.VERIFY_ALIAS_HOLDS.format(alias=alias, model=name, version=want)
        return StateCheck(f"model:{alias}", shown, True, text)
    now = messages.VERIFY_VERSION.format(version=have) if have else messages.VERIFY_NO_VERSION
    text = messages.VERIFY_ALIAS_MOVED.format(alias=alias, model=name, now=now, version=want)
    return StateCheck(f"model:{alias}", shown, False, text)


def _retrained(registry: ModelRegistry, proposal: Proposal) -> list[StateCheck]:
    model = str(proposal.action.params["model"])
    before = proposal.expected.get("newest")
    versions = registry.versions(model, limit=1)
    newest = versions[0] if versions else None
    name = one_line(model)
    if newest is None or newest.version == before:
        was = (
            messages.VERIFY_STILL_NEWEST.format(version=before)
            if before
            else messages.VERIFY_NONE_REGISTERED
        )
        text = messages.VERIFY_NOT_TRAINED.format(model=name, was=was)
        return [StateCheck("model:trained", f"training of {name}", False, text)]
    text = messages.VERIFY_TRAINED.format(model=name, version=newest.version)
    registered = StateCheck("model:trained", f"training of {name}", True, text)
    serving = registry.alias(model, SERVING_ALIAS)
    serves = serving is not None and serving.version == newest.version
    now = (
        messages.VERIFY_VERSION.format(version=serving.version)
        if serving
        else messages.VERIFY_NO_VERSION
    )
    template = messages.VERIFY_SERVING if serves else messages.VERIFY_NOT_SERVING
    text = template.format(alias=SERVING_ALIAS, model=name, now=now, version=newest.version)
    return [registered, StateCheck("model:serving", f"{SERVING_ALIAS} of {name}", serves, text)]
