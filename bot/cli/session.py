"""One incident handled end to end from a terminal: the same flow Slack drives, with y/N prompts in
place of buttons. Used by `medic demo` and `medic investigate`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot import messages
from bot.alerts import AlertGroup
from bot.cli.render import ThreadPrinter
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model_evidence import model_evidence
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.signals import Glossary
from bot.flow import IncidentFlow
from bot.model_views import MAX_FEATURES_SHOWN
from bot.origin_views import MAX_ORIGINS_REPORTED, origins_view
from detectors import FeatureDrift
from tools.proposals import Proposal, ProposalStatus

# Approve (True), reject (False), or leave pending (None) - asked per proposal.
Decider = Callable[[Proposal], bool | None]

# A proposal's status as the JSON line reports it: its own, except that one still running is
# reported approved. (Until issue 15 a success was reported "executed"; it is "succeeded" now, the
# name the proposal, the audit's readers and the MLOps scenarios use.)
REPORTED_STATUS = {
    ProposalStatus.EXECUTING: "approved",
}


def handle_alert(
    flow: IncidentFlow, group: AlertGroup, decide: Decider, user: str, printer: ThreadPrinter
) -> dict[str, Any]:
    """Run one alert group through the whole path; returns the machine-readable summary."""
    incident, new = flow.intake(group)[0]
    printer.alert(group, incident, new)
    diagnosis, proposals = flow.diagnose(incident)
    investigation, plan = diagnosis.investigation, diagnosis.plan
    printer.investigation(investigation, proposals, plan)

    pending = [p for p in proposals if p.status is ProposalStatus.PROPOSED]
    stopped = False
    for proposal in pending:
        choice = decide(proposal)
        if choice is None:
            stopped = True
            continue
        outcome = flow.decide(proposal.id, user, approve=choice, digest=proposal.digest)
        assert outcome is not None  # the flow proposed it a moment ago
        printer.outcome(outcome)
    if stopped:
        printer.note(messages.STOPPED_NOT_INTERACTIVE)

    final = flow.proposals_of(incident.id)
    verified = False
    if any(p.status is ProposalStatus.SUCCEEDED for p in final):
        verification = flow.verify(incident, investigation)
        printer.verification(verification)
        verified = verification.recovered
        record = flow.remember(incident, investigation, verification)
        if record is not None:
            printer.remembered(record)
    elif pending and not stopped:
        printer.note(messages.NOTHING_EXECUTED)

    shown = {p.id for p in proposals}
    return {
        "incident_id": incident.id,
        "service": incident.service,
        "anomalies": list(dict.fromkeys(f.metric for f in investigation.findings)),
        "window": {
            "baseline_start": _iso(investigation.window.baseline_start),
            "start": _iso(investigation.window.split),
            "end": _iso(investigation.window.end),
            "chosen": investigation.window.why,
            "onset_of": investigation.window.onset_of or None,
        },
        "origins": _origins(investigation, flow.catalog),
        "model": _model(investigation.model),
        "forecasts": [f.key for f in investigation.forecasts],
        "drift": [f.key for f in investigation.drift],
        "log_templates": investigation.abnormal_templates,
        "hypotheses": [{"text": h.text, "score": h.score} for h in investigation.hypotheses],
        "similar_incidents": [
            {"id": m.record.id, "similarity": m.similarity, "weak": m.weak}
            for m in investigation.similar
        ],
        "proposals": [
            {
                "tool": p.action.tool,
                "target": p.action.target,
                "parameters": p.action.params,
                "status": REPORTED_STATUS.get(p.status, p.status.value),
                "preview": p.preview,
                "source": p.source,
            }
            for p in final
            if p.id in shown
        ],
        "checked": plan.checked,
        "advice": plan.advice,
        "planners": plan.planners,
        "notes": investigation.notes,
        "verified": verified,
    }


def _origins(investigation: Investigation, catalog: Glossary) -> list[dict[str, Any]]:
    """The ranked services, most likely origin first, as the thread's view has them (the same
    caps on evidence), the first ``MAX_ORIGINS_REPORTED``."""
    view = origins_view(investigation, catalog, shown=MAX_ORIGINS_REPORTED)
    if view is None:
        return []
    return [
        {
            "service": o.service,
            "score": o.score,
            "relation": o.relation,
            "hops": o.hops,
            "downstream_of": o.downstream_of,
            "first_deviation": None if o.began is None else _iso(o.began),
            "evidence": list(o.evidence),
            "logs_read": o.logs_read,
        }
        for o in view.ranked
    ]


def _model(look: ModelLook | None) -> dict[str, Any] | None:
    """The look at the model (None: the service serves none), the features capped as shown."""
    if look is None:
        return None
    evidence = model_evidence(look)

    def drift(d: FeatureDrift) -> dict[str, Any]:
        return {
            "feature": d.feature,
            "psi": d.psi,
            "ks": d.ks,
            "ks_pvalue": d.ks_pvalue,
            "outside_training_range": d.outside,
            "drifted": d.drifted,
        }

    return {
        "model": look.model,
        "alias": look.alias or None,
        "version": look.version or None,
        "since": None if look.since is None else _iso(look.since),
        "since_from": look.since_from or None,
        "previous_version": look.previous or None,
        "offline_metrics": look.metrics,
        "registry_changes": [
            {"kind": c.kind, "version": c.version, "at": _iso(c.at), "previous": c.previous or None}
            for c in look.changes
        ],
        "features_compared": look.compared,
        "drift": [drift(d) for d in look.drift[:MAX_FEATURES_SHOWN]],
        "earlier_versions": [
            {"version": v.version, "compared": v.compared, "drifted": list(v.drifted)}
            for v in look.against
        ],
        "prediction_drift": None if look.predictions is None else drift(look.predictions),
        "quality": None
        if look.quality is None
        else {
            "metric": look.quality.metric,
            "baseline": look.quality.baseline,
            "observed": look.quality.observed,
            "fell": look.quality.fell,
        },
        "blamed": evidence[0][0] if evidence else None,
    }


def _iso(ts: float) -> str:
    """A time in the JSON report: RFC 3339 in UTC, to the second."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
