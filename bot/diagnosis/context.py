"""The context step of a diagnosis: what the flow reads around an investigation and weighs into
it - the service's recent rollouts and Kubernetes Events, the look at the model it serves (an ML
service's) and people's corrections of its similar past incidents; the same for the origin's
own evidence when the fault started in another service. The reads are here; the weighing is
pure (:mod:`bot.diagnosis.assembly`). The flow passes its collaborators in at each call."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from bot import messages
from bot.diagnosis.assembly import look_with_context, with_context
from bot.diagnosis.at_origin import OriginLook, model_at_fault, with_model_look
from bot.diagnosis.budget import Budget
from bot.diagnosis.changes import changes_from, read_rollouts
from bot.diagnosis.corrections import Correction
from bot.diagnosis.events import read_events
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model import ModelInvestigator
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from tools.backends import ClusterBackend, Rollout

Corrections = Callable[[Iterable[str]], Mapping[str, Correction]]  # incident ids -> latest


def in_context(
    incident: Incident,
    investigation: Investigation,
    budget: Budget | None,
    *,
    new_budget: Callable[[], Budget],
    cluster: ClusterBackend,
    models: ModelInvestigator | None,
    catalog: Glossary,
    corrections: Corrections,
    min_similarity: float,
) -> Investigation:
    """``investigation`` with the service's recent rollouts and Events, the look at its model
    and the corrected causes of its similar past incidents weighed in; the same for the origin's
    own evidence when the fault started in another service. Each look at a model gets a share
    of ``budget``, or of a ``new_budget()`` when there is none."""
    rollouts, note = read_rollouts(cluster, incident.namespace, incident.service)
    changes = changes_from(rollouts, incident.service)
    events, event_note = read_events(
        cluster,
        incident.namespace,
        incident.service,
        investigation.window.baseline_start,
        investigation.window.end,
    )
    model = _model_look(models, incident, investigation, rollouts, budget or new_budget())
    cause = model_at_fault(model)
    if cause and investigation.at_origin is not None:  # the model, not the ranked leader
        investigation = replace(
            investigation,
            at_origin=None,
            notes=[
                *investigation.notes,
                messages.MODEL_IS_THE_ORIGIN.format(
                    service=incident.service,
                    leader=investigation.at_origin.service,
                    cause=cause,
                ),
            ],
        )
    investigation = with_context(
        investigation,
        changes=changes,
        change_note=note or "",
        corrections=corrections(m.record.id for m in investigation.similar),
        catalog=catalog,
        min_similarity=min_similarity,
        model=model,
        events=events,
        event_note=event_note or "",
    )
    look = investigation.at_origin
    if look is None:
        return investigation
    rollouts, note = read_rollouts(cluster, incident.namespace, look.service)
    changes = changes_from(rollouts, look.service)
    look = look_with_context(
        look,
        changes=changes,
        change_note=note or "",
        corrections=corrections(m.record.id for m in look.similar),
        catalog=catalog,
        min_similarity=min_similarity,
    )
    look = _origin_model_look(
        models, catalog, incident, investigation, look, rollouts, budget or new_budget()
    )
    return replace(investigation, at_origin=look)


def _origin_model_look(
    models: ModelInvestigator | None,
    catalog: Glossary,
    incident: Incident,
    investigation: Investigation,
    look: OriginLook,
    rollouts: Sequence[Rollout],
    budget: Budget,
) -> OriginLook:
    """The origin's look with the look at the model it serves, when it serves one: judged in
    the same window, weighed into its hypotheses, so a model remedy is planned on it."""
    if models is None:
        return look
    window = investigation.window
    model = models.look(
        incident.namespace,
        look.service,
        rollouts,
        (window.baseline_start, window.split, window.end),
        [],
        look.findings,
        budget.share(),
        measured=look.measured,
    )
    return with_model_look(look, model, catalog)


def _model_look(
    models: ModelInvestigator | None,
    incident: Incident,
    investigation: Investigation,
    rollouts: Sequence[Rollout],
    budget: Budget,
) -> ModelLook | None:
    """The look at the model ``incident``'s service serves; None when it serves none."""
    if models is None:
        return None
    window = investigation.window
    return models.look(
        incident.namespace,
        incident.service,
        rollouts,
        (window.baseline_start, window.split, window.end),
        investigation.series,
        investigation.findings,
        budget.share(),
    )
