"""Runbooks: YAML rules from alert labels, abnormal metrics and likely causes to diagnostic steps
(read-only helpers Medic runs itself), proposed tools (with parameter recipes) and steps for a
human. Medic ships runbooks for the common Kubernetes
failure modes; teams add theirs in the directory named by ``runbooks_dir``.

A runbook's support is as strong as what it matched: the score of the likely cause it names, or
the confidence of the findings it requires.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import ConfigError
from bot.planners.base import Candidate, PlannerResult, PlanningContext, Recipe
from tools import YamlInputError, load_yaml, read_bounded

RUNBOOK_WEIGHT = 0.8
TOP_CAUSES = 3
LIKELY = 0.2  # a cause this weak (or contradicted by a measured metric) triggers no runbook


class RunbookCondition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: dict[str, str] = Field(default_factory=dict)
    all_findings: list[str] = Field(default_factory=list)
    any_findings: list[str] = Field(default_factory=list)
    no_findings: list[str] = Field(default_factory=list)  # none of these may be abnormal
    causes: list[str] = Field(default_factory=list)
    no_causes: list[str] = Field(default_factory=list)  # none of these may be a likely cause
    origin: bool = False  # only on a service found to be the origin of another one's alert


class Runbook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    when: RunbookCondition
    diagnose: list[Recipe] = Field(default_factory=list)  # read-only helpers Medic runs itself
    propose: list[Recipe] = Field(default_factory=list)
    advice: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_something(self) -> Runbook:
        if not (self.propose or self.advice or self.diagnose):
            raise ValueError(f"runbook {self.name} has no diagnose, propose or advice")
        return self

    def strength(self, context: PlanningContext) -> float:
        """How well the incident matches (0: not at all)."""
        w = self.when
        abnormal = {f.metric: f for f in context.findings if context.catalog.is_bad(f)}
        if not all(context.labels.get(k) == v for k, v in w.labels.items()):
            return 0.0
        if w.origin and not context.affected:
            return 0.0
        required = [abnormal.get(m) for m in w.all_findings]
        optional = [abnormal[m] for m in w.any_findings if m in abnormal]
        if None in required or (w.any_findings and not optional):
            return 0.0
        if any(m in abnormal for m in w.no_findings):
            return 0.0
        likely = {
            h.cause: h.score
            for h in context.hypotheses[:TOP_CAUSES]
            if h.score >= LIKELY and not any(e.kind == "against" for e in h.evidence)
        }
        if any(cause in likely for cause in w.no_causes):
            return 0.0
        if w.causes:
            return max((likely[c] for c in w.causes if c in likely), default=0.0)
        matched = [f.confidence for f in [*required, *optional] if f is not None]
        return sum(matched) / len(matched) if matched else 1.0


def load_runbooks(directory: Path | None = None) -> list[Runbook]:
    """Medic's shipped runbooks plus every *.yaml in ``directory``."""
    sources: list[tuple[str, bytes]] = [
        ("default runbooks", resources.files("bot.runbooks").joinpath("default.yaml").read_bytes())
    ]
    if directory is not None:
        if not directory.is_dir():
            raise ConfigError(f"runbooks_dir {directory} is not a directory")
        for path in sorted(directory.glob("*.y*ml")):
            try:
                sources.append((str(path), read_bounded(path, f"runbook file {path}")))
            except OSError as exc:
                raise ConfigError(f"cannot read runbook file {path}: {exc.strerror}") from exc
            except YamlInputError as exc:
                raise ConfigError(str(exc)) from exc
    runbooks: list[Runbook] = []
    for name, text in sources:
        try:
            items = load_yaml(text, f"runbook file {name}") or []
        except YamlInputError as exc:
            raise ConfigError(str(exc)) from exc
        if not isinstance(items, list):
            raise ConfigError(f"runbook file {name} must hold a list of runbooks")
        for index, item in enumerate(items):
            try:
                runbooks.append(Runbook.model_validate(item))
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(p) for p in (index, *problem["loc"]))
                raise ConfigError(
                    f"invalid runbook file {name}: {where}: {problem['msg']}"
                ) from exc
    return runbooks


class RunbookPlanner:
    name = "runbooks"

    def __init__(self, runbooks: list[Runbook]) -> None:
        self._runbooks = runbooks

    def candidates(self, context: PlanningContext) -> PlannerResult:
        result = PlannerResult()
        for runbook in self._runbooks:
            strength = runbook.strength(context)
            if strength <= 0:
                continue
            result.candidates += [
                Candidate(
                    recipe,
                    RUNBOOK_WEIGHT * strength,
                    f"runbook:{runbook.name}",
                    recipe.why or runbook.description,
                )
                for recipe in runbook.propose
            ]
            result.advice += [f"{text} (runbook {runbook.name})" for text in runbook.advice]
            result.checks += [
                Candidate(recipe, 0.0, f"runbook:{runbook.name}", recipe.why or runbook.description)
                for recipe in runbook.diagnose
            ]
        return result
