"""A look at the origin: when the fault started in another service than the one that paged, the
same questions are asked of that service - its metrics judged in the same window, its logs'
templates, its past incidents, its causes and its rollouts - so remedies are planned where the
fault is. Acting on the alerting service would only treat a symptom: a restart of frontend does
not make checkout answer faster.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot import messages
from bot.diagnosis.changes import Change
from bot.diagnosis.hypotheses import Hypothesis, add_evidence
from bot.diagnosis.model_evidence import model_evidence
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.origins import Origins
from bot.diagnosis.signals import Glossary
from detectors import Finding
from knowledge import SimilarIncident, TemplateChanges
from knowledge.origins import Origin


@dataclass(frozen=True)
class OriginLook:
    """What the sources said about the origin service (kept with the diagnosis; its metric
    series are not: ``measured`` names the metrics that had samples)."""

    service: str
    findings: list[Finding]
    templates: TemplateChanges | None
    similar: list[SimilarIncident]
    hypotheses: list[Hypothesis]
    symptoms: list[str]
    measured: list[str]
    changes: list[Change] = field(default_factory=list)  # its rollouts (assembly.with_context)
    notes: list[str] = field(default_factory=list)
    model: ModelLook | None = None  # the look at the model it serves, when it serves one


def with_model_look(look: OriginLook, model: ModelLook | None, catalog: Glossary) -> OriginLook:
    """The origin's look with the look at the model it serves: what that says about the cause
    (``model_evidence``) weighed into the origin's hypotheses - so its planners propose the
    model's remedy on the origin - and its notes joined. Unchanged when it serves no model."""
    if model is None:
        return look
    found = model_evidence(model)
    hypotheses = (
        add_evidence(look.hypotheses, found, catalog, measured_metrics=set(look.measured))
        if found
        else look.hypotheses
    )
    return replace(look, model=model, hypotheses=hypotheses, notes=[*look.notes, *model.notes])


def origin_elsewhere(origins: Origins, service: str) -> Origin | None:
    """The most likely origin when it is not ``service`` (the alerting one) and clear evidence
    implicates it - the call path passed ``service`` on the way to it, or it simply leads - seen
    to deviate at a known time. None when the alerting service leads, or the leader's case is
    too weak to act on elsewhere: a score is relative (the strongest of several quiet services is
    no origin), and a service that never turned abnormal did not start anything."""
    if not origins.ranked:
        return None
    first = origins.ranked[0]
    return first if first.service != service and first.clear and first.began else None


# The model causes that name the service serving the model as the origin: the outputs alone moving
# (``model-change``) is weighed in its hypotheses but does not outrank the services around it.
STRONG_MODEL_CAUSES = ("input-drift", "model-regression")


def model_at_fault(model: ModelLook | None) -> str:
    """The model cause (``input-drift``, ``model-regression``) the look at the alerting service's
    model found, or "". Direct evidence on that service: the cross-service ranking has no channel
    for a model's quality, so a bystander's chance surge must not outrank it."""
    found = [cause for cause, _, _ in model_evidence(model) if cause in STRONG_MODEL_CAUSES]
    return found[0] if found else ""


def named_origin(origins: Origins, service: str, model: ModelLook | None = None) -> str:
    """The service the thread names as where the fault started: the alerting ``service`` when
    its own model is at fault (``model_at_fault``); another one only when ``origin_elsewhere``
    finds it; else ``service`` itself - a weak leader elsewhere is shown ("the strongest evidence,
    weak, is on X") but not named, and the proposals stay on ``service``. What the scenario
    evaluation scores as the origin named first."""
    if model_at_fault(model):
        return service
    elsewhere = origin_elsewhere(origins, service)
    return elsewhere.service if elsewhere is not None else service


def downstream_advice(origins: Origins, service: str, origin: str) -> str:
    """What the alerting ``service``'s responders are told: that acting on it would not help
    when a known call path leads from it to ``origin`` (it calls the origin, or the call-path rule
    passed it on the way there); otherwise only that the origin leads - without a known call,
    "downstream" would be a guess."""
    related = origins.relation(origin)
    passed = any(o.service == service and o.downstream_of == origin for o in origins.ranked)
    if passed or (related is not None and related.relation == "calls"):
        return messages.AFFECTED_DOWNSTREAM.format(service=service, origin=origin)
    return messages.ORIGIN_LEADS.format(service=service, origin=origin)
