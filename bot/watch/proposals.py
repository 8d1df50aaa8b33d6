"""A heads-up's proposed change (right-sizing) made approvable: the finding opens a low-severity
incident of its own - a proposal needs an incident to belong to, for its audit trail, its
thread and its verification - and its action goes through the guarded workflow like an
incident's: policy, dry run, approval bound to the digest shown, expiry, run once, audit.

The incident is keyed by the service, the finding and the heads-up thread (none from the
command line), so the same finding found again by the next pass (or the next `medic watch
--once`) finds its incident and its pending proposal instead of asking twice. It never leads an
investigation: an alert of the service that follows is investigated on its own
(:func:`from_watch`), in the heads-up's thread."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot import messages
from bot.alerts import Alert
from bot.incidents import Incident, IncidentStore
from bot.watch.findings import WatchFinding
from tools.proposals import Proposal, ProposalStatus
from tools.workflow import RemediationWorkflow

WATCH_ALERTNAME = "MedicWatchHeadsUp"
WATCH_LABEL = "medic_watch"  # the finding's key (e.g. over-provisioned:cpu_utilization_pct)
PROPOSER = "medic:watch"
SOURCE = "the watch (right-sizing)"
# What an answered proposal leaves: asking again while it stands would be nagging.
STANDING = (ProposalStatus.PROPOSED, ProposalStatus.APPROVED, ProposalStatus.EXECUTING)


def lapsed(proposal: Proposal, now: float) -> bool:
    """Whether ``proposal`` ran out of time with nobody's answer (not rejected, not run)."""
    if proposal.status is ProposalStatus.EXPIRED:
        return True
    return proposal.status is ProposalStatus.PROPOSED and proposal.expires_at <= now


@dataclass(frozen=True)
class Proposed:
    """A finding's change as a proposal of the heads-up's incident (``proposal.id`` is what
    `medic approve` and the Approve button take)."""

    incident: Incident
    proposal: Proposal
    again: bool = False  # made because the last proposal of the same change expired unanswered


def from_watch(incident: Incident) -> bool:
    """Whether ``incident`` is a heads-up's, not an alert's."""
    return WATCH_LABEL in incident.labels and incident.alertname == WATCH_ALERTNAME


def watch_alert(finding: WatchFinding, now: float, thread: str | None) -> Alert:
    """The alert-shaped record of a heads-up: low severity, the service's labels and the
    finding's key; its fingerprint is the service, the finding and the thread."""
    t = finding.target
    key = f"{t.namespace}/{t.service}:{finding.key}:{thread or ''}"
    return Alert.model_validate(
        {
            "status": "firing",
            "labels": {
                "alertname": WATCH_ALERTNAME,
                "service": t.service,
                "namespace": t.namespace,
                "severity": "info",
                WATCH_LABEL: finding.key,
            },
            "annotations": {
                "summary": messages.WATCH_INCIDENT_SUMMARY.format(
                    concern=finding.concern.value, service=t.service, namespace=t.namespace
                )
            },
            "startsAt": datetime.fromtimestamp(now, UTC).isoformat(),
            "fingerprint": hashlib.sha256(key.encode()).hexdigest()[:16],
        }
    )


class WatchProposals:
    def __init__(
        self, incidents: IncidentStore, workflow: RemediationWorkflow, ceiling_pct: float
    ) -> None:
        """``ceiling_pct``: the CPU utilisation the service must stay under after the change
        (the right-sizing check's saturation threshold), kept with the proposal for its
        verification (:mod:`bot.watch.verify`)."""
        self._incidents = incidents
        self._workflow = workflow
        self._ceiling = ceiling_pct

    def propose(self, finding: WatchFinding, thread: str | None = None) -> Proposed | None:
        """The finding's change as a proposal (None for a finding without one): the standing
        one of the same change when there is one, else a new one through the guard."""
        action = finding.action
        if action is None:
            return None
        now = self._workflow.clock.now()
        t = finding.target
        incident, _new = self._incidents.open_or_attach(
            watch_alert(finding, now, thread),
            service=t.service,
            namespace=t.namespace,
            group_key=f"watch:{t.name}",
            now=now,
        )
        digest = self._workflow.pinned(action).digest()
        for earlier in reversed(self._workflow.proposals.for_incident(incident.id)):
            standing = earlier.status in STANDING and earlier.expires_at > now
            if earlier.digest == digest and standing:
                return Proposed(incident, earlier)
        outcome = self._workflow.propose(
            incident.id,
            action,
            requested_by=PROPOSER,
            source=SOURCE,
            rationale=messages.WATCH_RATIONALE.format(
                concern=finding.concern.value, level=f"{finding.level:.0f}"
            ),
            recipe={
                "tool": action.tool,
                "params": dict(action.params),
                "watch": {
                    "finding": finding.key,
                    "before_pct": round(finding.level, 2),
                    "ceiling_pct": self._ceiling,
                },
            },
        )
        return Proposed(incident, outcome.proposal)

    def propose_again(self, finding: WatchFinding, thread: str | None = None) -> Proposed | None:
        """The finding's change proposed anew when the heads-up's last proposal of it expired
        unanswered and the condition still holds (a later pass found it again); None while one
        stands, after a rejection (asking again would be nagging), or when nothing was proposed
        in that heads-up's incident. Nothing is opened to find out."""
        action = finding.action
        if action is None:
            return None
        now = self._workflow.clock.now()
        fingerprint = watch_alert(finding, now, thread).identity
        incidents = self._incidents.open_with_fingerprints([fingerprint])
        if not incidents:
            return None
        # the same kind of change on the same workload: the replicas wanted may have moved
        same = [
            p
            for p in self._workflow.proposals.for_incident(incidents[0].id)
            if (p.action.tool, p.action.target) == (action.tool, action.target)
        ]
        if not same or not lapsed(same[-1], now):
            return None
        proposed = self.propose(finding, thread)
        return None if proposed is None else replace(proposed, again=True)
