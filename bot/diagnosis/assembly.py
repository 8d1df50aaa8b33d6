"""The diagnosis assembled once, from all the evidence: the investigation, what changed in the
service, what people said about similar past incidents (their corrections), and what the planners
brought (an LLM's hypotheses, the notes of what they dropped or could not do).

Each step is a pure function returning a new value, so what the planners saw, what the thread
showed and what is verified and remembered later are one and the same :class:`Diagnosis`, never a
value rewritten in place by whoever held it last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.diagnosis.changes import Change, weigh_changes
from bot.diagnosis.corrections import Correction, corrected
from bot.diagnosis.hypotheses import add_evidence, replace_memory_evidence
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.planners.base import PlanningContext
from bot.planners.combine import Plan


@dataclass(frozen=True)
class Diagnosis:
    """One incident's diagnosis: the evidence with every hypothesis and note (``investigation``)
    and the plan made from it. Kept with the incident (:mod:`bot.diagnosis.stored`); the metric
    series are only in memory, for the charts posted with it."""

    investigation: Investigation
    plan: Plan

    @property
    def incident_id(self) -> str:
        return self.investigation.incident_id


def measured_metrics(investigation: Investigation) -> set[str]:
    """The metrics that had samples: a cause whose tell-tale metric is among them and normal is
    marked down (bot.diagnosis.hypotheses)."""
    return {s.metric for s in investigation.series if len(s)}


def with_context(
    investigation: Investigation,
    *,
    changes: Sequence[Change],
    change_note: str,
    corrections: Mapping[str, Correction],
    catalog: Glossary,
    min_similarity: float,
) -> Investigation:
    """The investigation with what changed in the service and the corrected causes of similar
    past incidents weighed into its hypotheses: what the planners are shown."""
    measured = measured_metrics(investigation)
    similar, hypotheses = investigation.similar, investigation.hypotheses
    if corrections:
        similar = [
            m.model_copy(update={"record": corrected(m.record, corrections.get(m.record.id))})
            for m in similar
        ]
        hypotheses = replace_memory_evidence(
            hypotheses, similar, catalog, measured_metrics=measured, min_similarity=min_similarity
        )
    weighed = weigh_changes(changes, investigation.findings, catalog)
    if weighed:
        hypotheses = add_evidence(
            hypotheses,
            [(change.cause, evidence, evidence.text) for change, evidence in weighed],
            catalog,
            measured_metrics=measured,
        )
    return replace(
        investigation,
        similar=similar,
        hypotheses=hypotheses,
        changes=list(changes),
        notes=investigation.notes + ([change_note] if change_note else []),
    )


def planning_context(
    incident: Incident,
    investigation: Investigation,
    catalog: Glossary,
    corrections: Mapping[str, Correction],
    min_similarity: float,
) -> PlanningContext:
    """The incident's evidence as every planner sees it."""
    return PlanningContext(
        incident_id=incident.id,
        namespace=incident.namespace,
        service=incident.service,
        summary=incident.summary,
        labels=incident.labels,
        annotations=incident.annotations,
        findings=investigation.findings,
        hypotheses=investigation.hypotheses,
        similar=investigation.similar,
        templates=investigation.templates.abnormal if investigation.templates else [],
        changes=investigation.changes,
        catalog=catalog,
        corrections=corrections,
        min_similarity=min_similarity,
    )


def assemble(investigation: Investigation, plan: Plan, catalog: Glossary) -> Diagnosis:
    """The diagnosis: the planners' evidence (an LLM's hypotheses) joins the hypotheses, and what
    they noted or dropped joins the notes, so every rendering of the thread shows it."""
    hypotheses = investigation.hypotheses
    if plan.evidence:
        hypotheses = add_evidence(
            hypotheses, plan.evidence, catalog, measured_metrics=measured_metrics(investigation)
        )
    notes = investigation.notes + plan.notes + [f"dropped: {d}" for d in plan.dropped]
    return Diagnosis(replace(investigation, hypotheses=hypotheses, notes=notes), plan)
