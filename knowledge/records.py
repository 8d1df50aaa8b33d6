"""Incident records (what Medic remembers) and matches (what a search returns)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Remediation(BaseModel):
    """An action that was taken: a tool with parameter recipe (e.g. scale by factor 2), or a manual
    step described in words."""

    model_config = ConfigDict(extra="forbid")
    tool: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    manual: str | None = None
    workload: str | None = None  # acted on instead of the incident's service (the fault's origin)

    def describe(self) -> str:
        if self.tool is None:
            return self.manual or "manual fix"
        args = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        done = f"{self.tool}({args})" if args else self.tool
        return f"{done} on {self.workload}" if self.workload else done


class TemplateCount(BaseModel):
    """One log template of an incident: how often before (baseline) and during it."""

    model_config = ConfigDict(extra="forbid")
    template: str
    level: str = ""
    baseline: int = 0
    current: int = 0
    change: Literal["new", "surging", "steady"] = "new"


class IncidentRecord(BaseModel):
    """What Medic remembers of an incident: where and when, what was abnormal (log templates,
    metrics), the root cause, what was done, whether it worked, and the postmortem."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    service: str
    namespace: str = "default"
    alert: str = ""
    started_at: str = ""
    ended_at: str = ""
    symptoms: list[str] = Field(default_factory=list)
    abnormal_metrics: list[str] = Field(default_factory=list)
    evidence: dict[str, float] = Field(
        default_factory=dict,
        description="The evidence profile when it was investigated: 'service channel' -> strength"
        " (knowledge.matching.evidence_key); alike incidents leave alike profiles even when the"
        " suspect or the exact log templates differ.",
    )
    neighbourhood: dict[str, float] = Field(
        default_factory=dict,
        description="The evidence profile of every service the ranking weighed, not only its"
        " leaders: what the fault did to the whole neighbourhood, matched on its own when the"
        " cause is silent (knowledge.matching.slotted_order). Empty in records kept before it.",
    )
    log_lines: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    template_counts: list[TemplateCount] = Field(default_factory=list)
    root_cause: str
    cause: str = Field(description="Short cause key, e.g. input-size-surge.")
    remediation: list[Remediation] = Field(default_factory=list)
    outcome: Literal["resolved", "not_resolved", "unknown"] = "resolved"
    postmortem: str = ""
    postmortem_url: str = ""
    source: Literal["sample", "medic", "imported"] = "medic"

    @property
    def error_templates(self) -> list[str]:
        """Templates at warning level or worse, when levels are known; else all templates."""
        errors = [c.template for c in self.template_counts if c.level in ("ERROR", "WARN", "FATAL")]
        return errors or [t for t in self.templates if t.split(" ", 1)[0] in _ERROR_WORDS]


_ERROR_WORDS = frozenset({"ERROR", "WARN", "WARNING", "FATAL", "CRITICAL"})


class SimilarIncident(BaseModel):
    """A past incident matched to the current one, with the reasons it matched."""

    record: IncidentRecord
    similarity: float
    embedding_similarity: float
    shared_templates: list[str]
    explanation: str
    # how alike the evidence around every ranked service is (the neighbourhood profiles' cosine);
    # None when either side has no such profile. It orders the neighbourhood's place of the list.
    neighbourhood_similarity: float | None = None
    # Below the investigation's similarity threshold: still listed (the nearest the memory has),
    # but not evidence for a hypothesis and not a source of proposals, and labelled so.
    weak: bool = False
