"""Planning: turn a diagnosis into concrete proposed actions.

Two planners, one output: runbooks (YAML rules over findings, labels and likely causes) and memory
(what fixed the most similar past incidents, weighted by similarity and by whether it worked).
Their proposals are merged by the exact action, scored, and ranked; the guard sees every one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.diagnosis import Hypothesis
from bot.errors import ConfigError
from bot.signals import SignalCatalog
from detectors import Finding
from knowledge.records import SimilarIncident
from tools.actions import Action
from tools.backends import ClusterBackend
from tools.errors import ToolError

RUNBOOK_WEIGHT = 0.6
MEMORY_WEIGHT = 0.5
OUTCOME_SIGN = {"resolved": 1.0, "not_resolved": -1.0, "unknown": 0.3}
TOP_CAUSES = 3


class Recipe(BaseModel):
    """A tool with parameter recipe: ``scale`` takes ``factor``; strings may use ``{service}``."""

    model_config = ConfigDict(extra="forbid")
    tool: str
    params: dict[str, Any] = Field(default_factory=dict)
    why: str = ""


class RunbookCondition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: dict[str, str] = Field(default_factory=dict)
    all_findings: list[str] = Field(default_factory=list)
    any_findings: list[str] = Field(default_factory=list)
    causes: list[str] = Field(default_factory=list)


class Runbook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    when: RunbookCondition
    propose: list[Recipe] = Field(min_length=1)

    def matches(self, labels: dict[str, str], abnormal: set[str], likely_causes: set[str]) -> bool:
        w = self.when
        return (
            all(labels.get(k) == v for k, v in w.labels.items())
            and all(m in abnormal for m in w.all_findings)
            and (not w.any_findings or any(m in abnormal for m in w.any_findings))
            and (not w.causes or any(c in likely_causes for c in w.causes))
        )


def load_runbooks(directory: Path | None = None) -> list[Runbook]:
    """Medic's shipped runbooks plus every *.yaml in ``directory``."""
    sources: list[tuple[str, str]] = [
        ("default runbooks", resources.files("bot.runbooks").joinpath("default.yaml").read_text())
    ]
    if directory is not None:
        if not directory.is_dir():
            raise ConfigError(f"runbooks_dir {directory} is not a directory")
        sources += [(str(p), p.read_text()) for p in sorted(directory.glob("*.y*ml"))]
    runbooks: list[Runbook] = []
    for name, text in sources:
        try:
            items = yaml.safe_load(text) or []
            runbooks += [Runbook.model_validate(item) for item in items]
        except (yaml.YAMLError, ValidationError, TypeError) as exc:
            raise ConfigError(f"invalid runbook file {name}: {str(exc).splitlines()[0]}") from exc
    return runbooks


@dataclass
class PlannedAction:
    action: Action
    recipe: Recipe
    score: float = 0.0  # sum of the supporting weights; ranks proposals, not a probability
    sources: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


class Planner:
    def __init__(
        self,
        runbooks: Sequence[Runbook],
        cluster: ClusterBackend,
        catalog: SignalCatalog,
        min_similarity: float = 0.45,
    ) -> None:
        self._runbooks = list(runbooks)
        self._cluster = cluster
        self._catalog = catalog
        self._min_similarity = min_similarity

    def plan(
        self,
        *,
        namespace: str,
        service: str,
        labels: dict[str, str],
        findings: Sequence[Finding],
        hypotheses: Sequence[Hypothesis],
        similar: Sequence[SimilarIncident],
    ) -> list[PlannedAction]:
        planned: dict[str, PlannedAction] = {}

        def add(recipe: Recipe, weight: float, source: str, reason: str) -> None:
            action = self._resolve(recipe, namespace, service)
            if action is None:
                return
            entry = planned.setdefault(action.digest(), PlannedAction(action, recipe))
            entry.score += weight
            entry.sources.append(source)
            entry.reasons.append(reason)

        abnormal = {f.metric for f in findings if self._catalog.is_bad(f)}
        likely = {h.cause for h in hypotheses[:TOP_CAUSES] if h.score > 0}
        for runbook in self._runbooks:
            if runbook.matches(labels, abnormal, likely):
                for recipe in runbook.propose:
                    add(
                        recipe,
                        RUNBOOK_WEIGHT,
                        f"runbook:{runbook.name}",
                        recipe.why or runbook.description,
                    )

        for match in similar:
            if match.similarity < self._min_similarity:
                continue
            record = match.record
            sign = OUTCOME_SIGN[record.outcome]
            for remedy in record.remediation:
                if remedy.tool is None:
                    continue
                verb = "fixed" if sign > 0 else "did not fix"
                add(
                    Recipe(tool=remedy.tool, params=remedy.params),
                    MEMORY_WEIGHT * match.similarity * sign,
                    f"memory:{record.id}",
                    f"{verb} {record.id} ({match.similarity:.2f} similar)",
                )

        ranked = [p for p in planned.values() if p.score > 0]
        return sorted(ranked, key=lambda p: p.score, reverse=True)

    def _resolve(self, recipe: Recipe, namespace: str, service: str) -> Action | None:
        """A concrete action from a recipe; None when the target cannot be read."""
        params: dict[str, Any] = {
            k: v.format(service=service) if isinstance(v, str) else v
            for k, v in recipe.params.items()
        }
        if recipe.tool == "scale" and "factor" in params:
            try:
                current = self._cluster.get_deployment(namespace, service).replicas
            except ToolError:
                return None
            params = {"replicas": max(1, math.ceil(current * float(params.pop("factor"))))}
        return Action(recipe.tool, namespace, service, params)
