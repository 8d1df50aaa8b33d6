"""The one seam between Slack and the approval path: every approve, reject, withdraw and silence
that starts in Slack goes through :class:`Decisions`, which hands the Slack user id and the user's
groups to the guarded workflow. Who may decide is the policy's business (its approvers and the
two-person rule), checked there; a refusal's text is addressed to the person who clicked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot import messages
from bot.flow import IncidentFlow, Outcome
from bot.incidents import Incident
from tools import SERVICE_LABELS
from tools.actions import Action, Principal, ToolResult
from tools.proposals import Proposal, ProposalStatus


@dataclass(frozen=True)
class SlackUser:
    id: str
    groups: Sequence[str] = field(default_factory=tuple)
    groups_unknown: str = ""  # why the groups could not be read from Slack, if they could not

    @property
    def principal(self) -> Principal:
        return Principal.of(self.id, self.groups, self.groups_unknown)


def is_withdrawn(proposal: Proposal) -> bool:
    return proposal.status is ProposalStatus.WITHDRAWN


class Decisions:
    def __init__(self, flow: IncidentFlow) -> None:
        self._flow = flow

    def approve(self, proposal_id: str, user: SlackUser, digest: str) -> Outcome | None:
        """Approve and execute once; None when there is no such proposal."""
        if self._flow.proposals.get(proposal_id) is None:
            return None
        return self._flow.approve(proposal_id, user.principal, digest)

    def reject(self, proposal_id: str, user: SlackUser) -> Outcome | None:
        if self._flow.proposals.get(proposal_id) is None:
            return None
        return self._flow.reject(proposal_id, user.principal)

    def withdraw(self, proposal_id: str) -> Outcome:
        """Take back a pending proposal because its alert resolved."""
        return self._flow.workflow.withdraw(proposal_id, messages.ALERT_RESOLVED_REASON)

    def silence(self, incident: Incident, seconds: float, user: SlackUser) -> ToolResult:
        """Silence the incident's alerts: a `silence` proposal asked for and approved by ``user``,
        so it passes the same guard (policy, silence scope, approvers, two-person rule) as every
        other write. The matchers are the alert's own name, namespace and workload labels."""
        labels = incident.labels
        workload = next((k for k in SERVICE_LABELS if labels.get(k) == incident.service), "service")
        matchers = {k: labels[k] for k in ("alertname", "namespace") if labels.get(k)}
        action = Action(
            "silence",
            incident.namespace,
            incident.service,
            {
                "matchers": {**matchers, workload: incident.service},
                "duration_minutes": max(1, math.ceil(seconds / 60)),
                "comment": f"{incident.id}: silenced from Slack by {user.id}",
            },
        )
        who = user.principal
        proposed = self._flow.workflow.propose(
            incident.id,
            action,
            requested_by=who.id,
            source="slack:/medic silence",
            rationale=f"requested by {user.id}",
            recipe={"tool": "silence", "params": action.params},
        )
        proposal = proposed.proposal
        if proposal.status is not ProposalStatus.PROPOSED:
            return proposed.result
        return self._flow.approve(proposal.id, who, proposal.digest).result
