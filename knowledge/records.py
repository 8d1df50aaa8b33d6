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

    def describe(self) -> str:
        if self.tool is None:
            return self.manual or "manual fix"
        args = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.tool}({args})" if args else self.tool


class IncidentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    service: str
    namespace: str = "default"
    started_at: str = ""
    symptoms: list[str] = Field(default_factory=list)
    log_lines: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    root_cause: str
    cause: str = Field(description="Short cause key, e.g. input-size-surge.")
    remediation: list[Remediation] = Field(default_factory=list)
    outcome: Literal["resolved", "not_resolved", "unknown"] = "resolved"
    postmortem: str = ""
    source: Literal["sample", "medic", "imported"] = "medic"


class SimilarIncident(BaseModel):
    """A past incident matched to the current one, with the reasons it matched."""

    record: IncidentRecord
    similarity: float
    embedding_similarity: float
    shared_templates: list[str]
    explanation: str
