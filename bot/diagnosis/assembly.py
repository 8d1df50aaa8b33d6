"""The diagnosis assembled once, from all the evidence: the investigation, what changed in the
service, what people said about similar past incidents (their corrections), and what the planners
brought (an LLM's hypotheses, the notes of what they dropped or could not do). When the fault
started in another service, the look at that origin is weighed the same way and planned on too.

Each step is a pure function returning a new value, so what the planners saw, what the thread
showed and what is verified and remembered later are one and the same :class:`Diagnosis`, never a
value rewritten in place by whoever held it last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot import messages
from bot.diagnosis.at_origin import OriginLook
from bot.diagnosis.changes import Change, weigh_changes
from bot.diagnosis.corrections import Correction, corrected
from bot.diagnosis.events import event_evidence
from bot.diagnosis.hypotheses import (
    DRIVER_WEIGHT,
    Evidence,
    Hypothesis,
    add_evidence,
    replace_memory_evidence,
)
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model_evidence import model_evidence
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.planners.base import PlanningContext
from bot.planners.combine import Plan
from detectors import Finding
from knowledge import SimilarIncident
from tools.backends import ClusterEvent


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
    model: ModelLook | None = None,
    events: Sequence[ClusterEvent] = (),
    event_note: str = "",
) -> Investigation:
    """The investigation with what changed in the service, the corrected causes of similar
    past incidents, an origin among its dependencies, the look at its model (an ML
    service's) and the Kubernetes Events about its pods weighed into its hypotheses: what the
    planners are shown."""
    measured = measured_metrics(investigation)
    similar, hypotheses = _weighed(
        investigation.findings,
        investigation.similar,
        investigation.hypotheses,
        measured,
        changes,
        corrections,
        catalog,
        min_similarity,
    )
    dependency = _origin_among_dependencies(investigation)
    if dependency:
        hypotheses = add_evidence(hypotheses, dependency, catalog, measured_metrics=measured)
    about_model = model_evidence(model)
    if about_model:
        hypotheses = add_evidence(hypotheses, about_model, catalog, measured_metrics=measured)
    about_events = event_evidence(events)
    if about_events:
        hypotheses = add_evidence(hypotheses, about_events, catalog, measured_metrics=measured)
    return replace(
        investigation,
        similar=similar,
        hypotheses=hypotheses,
        changes=list(changes),
        notes=investigation.notes
        + ([change_note] if change_note else [])
        + (model.notes if model else [])
        + ([event_note] if event_note else []),
        model=model,
        events=list(events),
    )


def _origin_among_dependencies(investigation: Investigation) -> list[tuple[str, Evidence, str]]:
    """A slow (or failing) dependency as a cause of the alerting service's symptoms, when the
    origin found elsewhere is a service it calls: its own metrics need not show it (not every
    service exports its calls' latency), the ranking of its neighbours does."""
    look, origins = investigation.at_origin, investigation.origins
    related = origins.relation(look.service) if look else None
    alerting = next((c.service for c in origins.relations.values() if c.relation == "alerting"), "")
    if look is None or related is None or related.relation != "calls" or not alerting:
        return []
    text = messages.ORIGIN_IS_A_DEPENDENCY.format(origin=look.service, service=alerting)
    return [("dependency-timeout", Evidence("metric", text, DRIVER_WEIGHT), text)]


def look_with_context(
    look: OriginLook,
    *,
    changes: Sequence[Change],
    change_note: str,
    corrections: Mapping[str, Correction],
    catalog: Glossary,
    min_similarity: float,
) -> OriginLook:
    """The look at the origin with the origin's own rollouts and the corrected causes of its
    similar past incidents weighed in, as :func:`with_context` does for the alerting service."""
    similar, hypotheses = _weighed(
        look.findings,
        look.similar,
        look.hypotheses,
        set(look.measured),
        changes,
        corrections,
        catalog,
        min_similarity,
    )
    return replace(
        look,
        similar=similar,
        hypotheses=hypotheses,
        changes=list(changes),
        notes=look.notes + ([change_note] if change_note else []),
    )


def _weighed(
    findings: Sequence[Finding],
    similar: Sequence[SimilarIncident],
    hypotheses: Sequence[Hypothesis],
    measured: set[str],
    changes: Sequence[Change],
    corrections: Mapping[str, Correction],
    catalog: Glossary,
    min_similarity: float,
) -> tuple[list[SimilarIncident], list[Hypothesis]]:
    """``similar`` read through people's corrections, and ``hypotheses`` with those corrected
    causes and the rollouts (``changes``) weighed in."""
    similar, hypotheses = list(similar), list(hypotheses)
    if corrections:
        similar = [
            m.model_copy(update={"record": corrected(m.record, corrections.get(m.record.id))})
            for m in similar
        ]
        hypotheses = replace_memory_evidence(
            hypotheses, similar, catalog, measured_metrics=measured, min_similarity=min_similarity
        )
    weighed = weigh_changes(changes, findings, catalog)
    if weighed:
        hypotheses = add_evidence(
            hypotheses,
            [(change.cause, evidence, evidence.text) for change, evidence in weighed],
            catalog,
            measured_metrics=measured,
        )
    return similar, hypotheses


def planning_context(
    incident: Incident,
    investigation: Investigation,
    catalog: Glossary,
    corrections: Mapping[str, Correction],
    min_similarity: float,
) -> PlanningContext:
    """The incident's evidence as every planner sees it."""
    return _context(incident, investigation, catalog, corrections, min_similarity)


def origin_context(
    incident: Incident,
    look: OriginLook,
    catalog: Glossary,
    corrections: Mapping[str, Correction],
    min_similarity: float,
) -> PlanningContext:
    """The origin's evidence as every planner sees it: its findings, causes, past incidents and
    rollouts, with the alert that paged (on another service) for its labels and words. What the
    planners propose acts on the origin."""
    return replace(
        _context(incident, look, catalog, corrections, min_similarity),
        service=look.service,
        affected=(incident.service,),
    )


def _context(
    incident: Incident,
    evidence: Investigation | OriginLook,
    catalog: Glossary,
    corrections: Mapping[str, Correction],
    min_similarity: float,
) -> PlanningContext:
    return PlanningContext(
        incident_id=incident.id,
        namespace=incident.namespace,
        service=incident.service,
        summary=incident.summary,
        labels=incident.labels,
        annotations=incident.annotations,
        findings=evidence.findings,
        hypotheses=evidence.hypotheses,
        similar=evidence.similar,
        templates=evidence.templates.abnormal if evidence.templates else [],
        changes=evidence.changes,
        catalog=catalog,
        corrections=corrections,
        min_similarity=min_similarity,
    )


def assemble(investigation: Investigation, plan: Plan, catalog: Glossary) -> Diagnosis:
    """The diagnosis: the planners' evidence (an LLM's hypotheses) joins the hypotheses - of the
    origin, for what they said about it - and what they noted or dropped joins the notes, so
    every rendering of the thread shows it."""
    hypotheses = investigation.hypotheses
    if plan.evidence:
        hypotheses = add_evidence(
            hypotheses, plan.evidence, catalog, measured_metrics=measured_metrics(investigation)
        )
    look = investigation.at_origin
    if look is not None and plan.origin_evidence:
        look = replace(
            look,
            hypotheses=add_evidence(
                look.hypotheses,
                plan.origin_evidence,
                catalog,
                measured_metrics=set(look.measured),
            ),
        )
    notes = investigation.notes + (look.notes if look else []) + plan.notes
    notes += [f"dropped: {d}" for d in plan.dropped]
    return Diagnosis(
        replace(investigation, hypotheses=hypotheses, notes=notes, at_origin=look), plan
    )
