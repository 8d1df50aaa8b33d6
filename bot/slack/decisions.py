"""Who decides in Slack: a Slack user id with the user's groups, as the guarded workflow's
:class:`~tools.actions.Principal`. Who may decide is the policy's business (its approvers and the
two-person rule), checked by the flow's guard; a refusal's text is addressed to the person who
clicked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from tools.actions import Principal
from tools.proposals import Proposal, ProposalStatus

# Slack's user ids: U... (W... on Enterprise Grid). Anything else in a request - "cli:root",
# "medic:planner", "*" - is no Slack user, and must never pass for a local CLI user or Medic
# itself, whom a policy may admit ("cli:*" in the shipped one).
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")
NOT_A_SLACK_USER = "not-a-slack-user"


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
