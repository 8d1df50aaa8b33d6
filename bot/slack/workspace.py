"""Which Slack workspace (and Enterprise Grid organisation) may talk to Medic. A Slack app can be
installed in several workspaces (a distributed app, an org-wide install), and every install's
requests are signed with the app's one signing secret: the signature says "our app", not "our
workspace". With ``slack.team_id`` (and/or ``slack.enterprise_id``) set, a signed slash command,
event or click from any other workspace is refused before it acts."""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages


@dataclass(frozen=True)
class Workspace:
    """The configured workspace; ``None`` fields accept any (the default: one install)."""

    team_id: str | None = None
    enterprise_id: str | None = None

    def refusal(self, team_id: str | None, enterprise_id: str | None) -> str | None:
        """Why a request from ``team_id`` / ``enterprise_id`` (as the payload names them; None
        when it names none) may not act, for the log; None when it may."""
        if self.team_id is not None and team_id != self.team_id:
            return messages.SLACK_OTHER_WORKSPACE.format(
                what="workspace", got=_shown(team_id), expected=self.team_id, key="slack.team_id"
            )
        if self.enterprise_id is not None and enterprise_id != self.enterprise_id:
            return messages.SLACK_OTHER_WORKSPACE.format(
                what="organisation",
                got=_shown(enterprise_id),
                expected=self.enterprise_id,
                key="slack.enterprise_id",
            )
        return None


def _shown(value: str | None) -> str:
    """A payload's id for one log line: quoted, at most 32 characters, controls escaped."""
    if value is None:
        return "none"
    return repr(str(value)[:32])
