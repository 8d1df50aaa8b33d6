"""An incident as the memory keeps it: what was seen, what was done and whether it worked, so the
next similar incident is diagnosed (and planned) from it. Pure: the flow stores it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.diagnosis.investigation import Investigation, neighbourhood_profile, origins_profile
from bot.diagnosis.verification import Verification
from bot.incidents import Incident
from knowledge.records import IncidentRecord, Remediation, TemplateCount
from tools.proposals import Proposal


def incident_record(
    incident: Incident,
    investigation: Investigation,
    executed: Sequence[Proposal],
    verification: Verification,
) -> IncidentRecord:
    """The record of ``incident``: its diagnosis (``investigation``), the actions that ran
    (``executed``) and the verification's verdict."""
    top = investigation.hypotheses[0] if investigation.hypotheses else None
    started = datetime.fromtimestamp(incident.starts_at, UTC).isoformat(timespec="seconds")
    done = "; ".join(p.outcome for p in executed)
    checks = "; ".join(c.text for c in verification.checks) or verification.note
    return IncidentRecord(
        id=incident.id,
        title=f"{incident.summary}" + (f" - {top.title.lower()}" if top else ""),
        service=incident.service,
        namespace=incident.namespace,
        started_at=started,
        alert=incident.summary,
        symptoms=investigation.symptoms,
        abnormal_metrics=list(dict.fromkeys(f.metric for f in investigation.findings)),
        evidence=origins_profile(investigation.origins),
        neighbourhood=neighbourhood_profile(investigation.origins),
        templates=investigation.abnormal_templates,
        template_counts=[
            TemplateCount(
                template=t.template,
                level=t.level,
                baseline=t.baseline_count,
                current=t.current_count,
                change="new" if t.is_new else "surging",
            )
            for t in (investigation.templates.abnormal if investigation.templates else [])
        ],
        root_cause=top.text if top else "unknown",
        cause=top.cause if top else "unknown",
        remediation=[
            Remediation(
                tool=p.action.tool,
                params=p.recipe.get("params", {}),
                workload=p.action.name if p.action.name != incident.service else None,
            )
            for p in executed
        ],
        outcome="resolved" if verification.recovered else "not_resolved",
        postmortem=f"Medic: {done}. Verification: {checks}.",
        source="medic",
    )
