"""An incident's record, as a postmortem is written from it: every fact the draft states, read
from where Medic keeps it - the incident, its kept diagnosis (findings, origins, hypotheses,
similar incidents, the runbooks' advice), its proposals (who approved what, when it ran, what
came of it), its verifications, corrections, and the thread's notes when it had one. The same
record whether the incident was handled in Slack or in a terminal; gathering is the only I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.diagnosis.corrections import Correction
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.stored import from_json
from bot.incidents import Incident, IncidentStore
from bot.planners.combine import Plan
from bot.postmortems.store import PostmortemStore, VerificationEntry
from bot.slack.thread_store import TimelineEntry
from tools.proposals import Proposal, ProposalStore

THREAD_KINDS = ("correction", "note", "resolved")  # what only the thread keeps


@dataclass(frozen=True)
class IncidentFile:
    """Everything known of one incident (``investigation`` and ``plan`` None: never diagnosed,
    or diagnosed by a version that did not keep diagnoses)."""

    incident: Incident
    investigation: Investigation | None
    plan: Plan | None
    proposals: Sequence[Proposal]
    verifications: Sequence[VerificationEntry]
    correction: Correction | None = None
    thread: Sequence[TimelineEntry] = field(default_factory=list)


def read_incident_file(
    incident: Incident,
    incidents: IncidentStore,
    proposals: ProposalStore,
    postmortems: PostmortemStore,
    correction: Correction | None = None,
    thread: Sequence[TimelineEntry] = (),
) -> IncidentFile:
    """The incident's file from the state database."""
    kept = incidents.diagnosis(incident.id)
    investigation = plan = None
    if kept:
        try:
            diagnosis = from_json(kept)
        except ValueError:
            pass  # kept by another version: the draft says it has no diagnosis
        else:
            investigation, plan = diagnosis.investigation, diagnosis.plan
    return IncidentFile(
        incident=incident,
        investigation=investigation,
        plan=plan,
        proposals=sorted(proposals.for_incident(incident.id), key=lambda p: p.created_at),
        verifications=postmortems.verifications(incident.id),
        correction=correction,
        thread=[e for e in thread if e.kind in THREAD_KINDS],
    )
