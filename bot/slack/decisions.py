"""Who decides in Slack: a Slack user id with the user's groups, as the guarded workflow's
:class:`~tools.actions.Principal`. Who may decide is the policy's business (its approvers and the
two-person rule), checked by the flow's guard; a refusal's text is addressed to the person who
clicked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tools.actions import Principal
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
