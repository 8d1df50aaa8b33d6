"""Planning: turn an incident's evidence into a ranked plan of concrete actions.

Every planner (runbooks, memory, what changed, the optional LLM) proposes candidate remedies with
a support weight and a reason. Here they are made concrete (a scale factor becomes a replica count
read from the cluster, ``{model}`` the registered model the workload serves), checked against the
tool catalog - an unknown tool, a read-only helper or parameters that fail the tool's schema are
dropped and reported, never proposed - merged when they are the same action (keeping every source
and reason), scored (independent support combines by a noisy-OR; a remedy that failed before
counts against itself) and ranked. The guard still sees every action that survives.

When the fault started in another service than the alerting one, the planners run twice - on the
alerting service's own evidence and on the origin's - and the two plans are merged
(:func:`with_origin`): the origin's remedies act on the origin, so the guard's policy, cooldowns
and approvers are those of that workload, and the alerting service is told why acting on it would
not help. Its own evidence still proposes what it supports (a leak of its own is still a leak).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bot import messages
from bot.diagnosis.hypotheses import Evidence
from bot.planners.base import (
    Candidate,
    CandidatePlanner,
    PlanningContext,
    Recipe,
)
from bot.planners.runbooks import Runbook, load_runbooks
from bot.planners.served_model import ServedModel, from_pod_template
from bot.untrusted import flag
from tools import TOOLS, Action, ClusterBackend, Policy, ToolError
from tools.registry.base import MODEL_LABEL

__all__ = [
    "Plan",
    "PlannedAction",
    "Planner",
    "Recipe",
    "Runbook",
    "load_runbooks",
    "with_origin",
]

MIN_SCORE = 0.05  # below this, a remedy is not worth a human's attention


@dataclass
class PlannedAction:
    action: Action
    recipe: Recipe
    score: float = 0.0  # combined support; ranks proposals, not a probability
    sources: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    support: list[float] = field(default_factory=list)


@dataclass
class Plan:
    """The merged plan: ranked actions, steps for a human, what was dropped and why, notes."""

    actions: list[PlannedAction] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    checks: list[tuple[Action, str]] = field(default_factory=list)  # read-only helpers, source
    checked: list[str] = field(default_factory=list)  # what they answered (set by the flow)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evidence: list[tuple[str, Evidence, str]] = field(default_factory=list)
    planners: list[str] = field(default_factory=list)  # which planners ran, and how
    seconds: float = 0.0
    origin_evidence: list[tuple[str, Evidence, str]] = field(default_factory=list)  # on the origin


def _noisy_or(weights: Sequence[float]) -> float:
    return 1.0 - float(np.prod([1.0 - min(w, 0.99) for w in weights])) if weights else 0.0


def _score(support: Sequence[float]) -> float:
    """Independent support combined, less what speaks against the action."""
    return round(
        _noisy_or([w for w in support if w > 0]) - _noisy_or([-w for w in support if w < 0]), 3
    )


class Planner:
    """Runs the planners and merges their candidates. With the ``policy``, a scale recipe (a
    factor) is sized within the policy's replica ceiling and step, so the proposal is one the guard
    can allow."""

    def __init__(
        self,
        planners: Sequence[CandidatePlanner],
        cluster: ClusterBackend,
        policy: Policy | None = None,
        served_model: ServedModel | None = None,
    ) -> None:
        self.planners = list(planners)
        self._cluster = cluster
        self._policy = policy
        # what "{model}" in a recipe stands for: the registered model the workload serves
        self._served_model = served_model or from_pod_template(cluster)

    def plan(self, context: PlanningContext) -> Plan:
        started = time.perf_counter()
        plan = Plan(notes=[f.note() for f in flag(untrusted_texts(context))])
        candidates: list[Candidate] = []
        for planner in self.planners:
            result = planner.candidates(replace(context, proposed=tuple(candidates)))
            here = (context.namespace, context.service)
            candidates += [c if c.target else replace(c, target=here) for c in result.candidates]
            plan.planners.append(
                f"{planner.name} ({result.status})" if result.status else planner.name
            )
            plan.advice += [a for a in result.advice if a not in plan.advice]
            for check in result.checks:
                action, problem = self._concrete(check, context, read_only=True)
                if action is None:
                    plan.dropped.append(f"{check.source}: {problem}")
                elif all(action != done for done, _ in plan.checks):
                    plan.checks.append((action, check.source))
            plan.notes += result.notes
            plan.dropped += result.dropped
            plan.evidence += result.evidence
        merged: dict[str, PlannedAction] = {}
        for candidate in candidates:
            action, problem = self._concrete(candidate, context)
            if action is None:
                plan.dropped.append(f"{candidate.source}: {problem}")
                continue
            entry = merged.setdefault(action.digest(), PlannedAction(action, candidate.recipe))
            entry.support.append(candidate.weight)
            entry.sources.append(candidate.source)
            entry.reasons.append(candidate.reason + (f" ({problem})" if problem else ""))
        for entry in merged.values():
            entry.score = _score(entry.support)
        ranked = [p for p in merged.values() if p.score >= MIN_SCORE]
        plan.actions = sorted(ranked, key=lambda p: p.score, reverse=True)
        plan.seconds = time.perf_counter() - started
        return plan

    def _concrete(
        self, candidate: Candidate, context: PlanningContext, *, read_only: bool = False
    ) -> tuple[Action | None, str]:
        """The action a candidate stands for (and a note on how it was sized), or None and the
        reason it cannot be proposed."""
        recipe = candidate.recipe
        spec = TOOLS.get(recipe.tool)
        if spec is None:
            return None, f"unknown tool {recipe.tool!r} dropped (known: {', '.join(TOOLS)})"
        if spec.read_only != read_only:
            wrong = "a read-only helper, not a remedy" if spec.read_only else "not read-only"
            return None, f"{recipe.tool} is {wrong}; dropped"
        namespace, name = candidate.target or (context.namespace, context.service)
        names = {"service": name, "model": ""}
        if any(isinstance(v, str) and "{model}" in v for v in recipe.params.values()):
            model = self._served_model(namespace, name)
            if not model:
                target = f"{namespace}/{name}"
                return None, messages.MODEL_NOT_SERVED.format(
                    tool=recipe.tool, target=target, label=MODEL_LABEL
                )
            names["model"] = model
        try:
            params: dict[str, Any] = {
                k: v.format(**names) if isinstance(v, str) else v for k, v in recipe.params.items()
            }
        except (KeyError, IndexError, ValueError) as exc:
            return None, f"{recipe.tool} parameters name an unknown placeholder {exc}; dropped"
        note = ""
        if recipe.tool == "scale" and "factor" in params:
            try:
                factor = float(params.pop("factor"))
                current = self._cluster.get_deployment(namespace, name).replicas
            except (ToolError, TypeError, ValueError) as exc:
                return None, f"cannot size scale for {namespace}/{name}: {exc}"
            replicas, note = self._sized(current, factor)
            if replicas == current:
                return None, f"{namespace}/{name} cannot scale further: {note}"
            params = {"replicas": replicas, **params}
        action = Action(recipe.tool, namespace, name, params)
        problem = spec.validate(action)
        return (None, f"{problem}; dropped") if problem else (action, note)

    def _sized(self, current: int, factor: float) -> tuple[int, str]:
        wanted = max(1, math.ceil(current * factor))
        if self._policy is None or wanted <= current:
            return wanted, ""
        ceiling = self._policy.replicas.max
        step = math.floor(current * self._policy.max_scale_factor)
        if wanted <= min(ceiling, step):
            return wanted, ""
        capped = max(current, min(ceiling, step))
        which = f"ceiling of {ceiling}" if ceiling <= step else f"step of {step}"
        return capped, f"{wanted} replicas capped at the policy's {which}"


def with_origin(own: Plan, origin: Plan, advice: str) -> Plan:
    """One plan from the alerting ``service``'s own (``own``) and the one made on the origin's
    evidence: every action ranked by its support (the origin's first on a tie; an action both
    propose - a past fix on the origin that both remember - once, each source's support counted
    once), ``advice`` for the alerting service's responders first (why its remedies are on the
    origin), and what the planners said about the origin's causes kept apart (it joins the
    origin's hypotheses, not the alerting one's)."""
    merged: dict[str, PlannedAction] = {}
    for planned in [*origin.actions, *own.actions]:
        entry = merged.get(planned.action.digest())
        if entry is None:
            merged[planned.action.digest()] = replace(
                planned,
                sources=list(planned.sources),
                reasons=list(planned.reasons),
                support=list(planned.support),
            )
            continue
        for source, reason, weight in zip(
            planned.sources, planned.reasons, planned.support, strict=True
        ):
            if source not in entry.sources:
                entry.sources.append(source)
                entry.reasons.append(reason)
                entry.support.append(weight)
        entry.score = _score(entry.support)
    return Plan(
        actions=sorted(
            (p for p in merged.values() if p.score >= MIN_SCORE),
            key=lambda p: p.score,
            reverse=True,
        ),
        advice=_once([advice, *origin.advice, *own.advice]),
        checks=[*origin.checks, *(c for c in own.checks if c not in origin.checks)],
        checked=[*origin.checked, *own.checked],
        dropped=_once([*origin.dropped, *own.dropped]),
        notes=_once([*own.notes, *origin.notes]),
        evidence=own.evidence,
        planners=_once([*own.planners, *origin.planners]),
        seconds=own.seconds + origin.seconds,
        origin_evidence=origin.evidence,
    )


def _once(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def untrusted_texts(context: PlanningContext) -> list[tuple[str, str]]:
    """Everything in the evidence that people or programs outside Medic wrote."""
    texts = [("log line", t.example) for t in context.templates]
    texts += [("alert annotation", v) for v in context.annotations.values()]
    texts += [("rollout annotation", f"{c.what} {c.change_cause}") for c in context.changes]
    texts += [
        ("past incident", f"{m.record.title} {m.record.root_cause} {m.record.postmortem}")
        for m in context.similar
    ]
    return texts
