"""What every planner gets (the incident's evidence) and gives back (candidate remedies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.diagnosis.changes import Change
from bot.diagnosis.corrections import Correction
from bot.diagnosis.hypotheses import Evidence, Hypothesis
from bot.diagnosis.signals import Glossary
from detectors import Finding
from knowledge import SimilarIncident, TemplateStat


class Recipe(BaseModel):
    """A tool with parameter recipe: ``scale`` takes ``factor``; strings may use ``{service}``."""

    model_config = ConfigDict(extra="forbid")
    tool: str
    params: dict[str, Any] = Field(default_factory=dict)
    why: str = ""


@dataclass(frozen=True)
class PlanningContext:
    """One incident's evidence, as every planner sees it."""

    incident_id: str
    namespace: str
    service: str
    summary: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    findings: Sequence[Finding]
    hypotheses: Sequence[Hypothesis]
    similar: Sequence[SimilarIncident]
    templates: Sequence[TemplateStat]
    changes: Sequence[Change]
    catalog: Glossary
    corrections: Mapping[str, Correction] = field(default_factory=dict)  # of similar incidents
    min_similarity: float = 0.45
    proposed: Sequence[Candidate] = ()  # what the planners that ran before this one proposed
    affected: Sequence[str] = ()  # services whose alert this one's fault explains (its origin)

    def hypothesis(self, cause: str) -> Hypothesis | None:
        return next((h for h in self.hypotheses if h.cause == cause), None)


@dataclass(frozen=True)
class Candidate:
    """A remedy one planner supports (weight > 0) or advises against (weight < 0), and why.
    ``target`` names another workload than the incident's (namespace, name)."""

    recipe: Recipe
    weight: float
    source: str
    reason: str
    target: tuple[str, str] | None = None


@dataclass
class PlannerResult:
    candidates: list[Candidate] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)  # steps for a human, never executed
    checks: list[Candidate] = field(default_factory=list)  # read-only helpers to run now
    notes: list[str] = field(default_factory=list)  # what the planner could not do, and why
    evidence: list[tuple[str, Evidence, str]] = field(default_factory=list)  # (cause, ., summary)
    dropped: list[str] = field(default_factory=list)  # proposals refused before the guard
    status: str = ""  # how the planner ran, when that is worth saying ("off: no model ...")


class CandidatePlanner(Protocol):
    name: str

    def candidates(self, context: PlanningContext) -> PlannerResult:
        """The remedies this planner supports or advises against for ``context``, with
        advice, read-only checks, evidence and notes; the combiner turns them into actions."""
        ...
