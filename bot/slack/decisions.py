"""The one seam between Slack and the approval path: every approve, reject, withdraw and silence
that starts in Slack goes through :class:`Decisions`.

Who may decide is checked here for now: ``approvers`` is a list of Slack user ids and user groups
(ids ``S...`` or handles ``@oncall``) from ``slack.approvers`` in MEDIC_CONFIG. When the guard
learns per-user approvers (the policy's approvers, the two-person rule), this module passes the
user id and groups on to ``IncidentFlow`` instead and the check here goes away.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from bot import messages
from bot.flow import IncidentFlow, Outcome
from bot.incidents import Incident
from tools.actions import ToolResult, ToolStatus
from tools.proposals import Proposal

# Who a withdrawn proposal was "rejected" by: the proposal store has no withdrawn state yet.
WITHDRAWN_BY = "medic:alert-resolved"

# Create a silence for the incident's alerts: (incident, seconds, user id) -> result.
Silencer = Callable[[Incident, float, str], ToolResult]


@dataclass(frozen=True)
class SlackUser:
    id: str
    groups: Sequence[str] = field(default_factory=tuple)


def is_withdrawn(proposal: Proposal) -> bool:
    return proposal.decided_by == WITHDRAWN_BY


class Decisions:
    def __init__(
        self,
        flow: IncidentFlow,
        approvers: Collection[str],
        silencer: Silencer | None = None,
    ) -> None:
        self._flow = flow
        self._approvers = frozenset(a.lstrip("@") for a in approvers)
        self._silencer = silencer

    def may_decide(self, user: SlackUser) -> bool:
        return bool({user.id, *(g.lstrip("@") for g in user.groups)} & self._approvers)

    def _refused(self, proposal_id: str) -> Outcome | None:
        proposal = self._flow.proposals.get(proposal_id)
        if proposal is None:
            return None
        return Outcome(proposal, ToolResult(ToolStatus.REFUSED, self.not_approver_text()))

    def not_approver_text(self) -> str:
        names = ", ".join(f"<@{a}>" if a[:1] in "UW" else f"@{a}" for a in sorted(self._approvers))
        return messages.SLACK_NOT_APPROVER.format(approvers=names or messages.SLACK_NO_APPROVERS)

    def approve(self, proposal_id: str, user: SlackUser, digest: str) -> Outcome | None:
        """Approve and execute once; None when there is no such proposal."""
        if not self.may_decide(user):
            return self._refused(proposal_id)
        if self._flow.proposals.get(proposal_id) is None:
            return None
        return self._flow.approve(proposal_id, user.id, digest)

    def reject(self, proposal_id: str, user: SlackUser) -> Outcome | None:
        if not self.may_decide(user):
            return self._refused(proposal_id)
        if self._flow.proposals.get(proposal_id) is None:
            return None
        return self._flow.reject(proposal_id, user.id)

    def withdraw(self, proposal_id: str) -> Outcome:
        """Take back a pending proposal because its alert resolved."""
        return self._flow.reject(proposal_id, WITHDRAWN_BY)

    def silence(self, incident: Incident, seconds: float, user: SlackUser) -> ToolResult:
        if not self.may_decide(user):
            return ToolResult(ToolStatus.REFUSED, self.not_approver_text())
        if self._silencer is None:
            return ToolResult(ToolStatus.REFUSED, messages.SLACK_SILENCE_UNAVAILABLE)
        return self._silencer(incident, seconds, user.id)
