"""Proposals under the diagnosis: a pending one with its Approve and Reject buttons (each with a
dialog stating the exact change), a decided one as a line saying who decided what and what
happened. The whole diagnosis message is re-rendered from its stored head each time a proposal
changes, so the thread always shows every proposal's current state.
"""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.slack.blocks.elements import (
    Message,
    exact_change,
    mrkdwn,
    plain,
    section,
    slack_time,
    who,
)
from bot.slack.decisions import is_withdrawn
from bot.slack.limits import Block
from bot.slack.mrkdwn import Mrkdwn, escape, markup
from tools.proposals import Proposal, ProposalStatus

APPROVE_ACTION = "medic_approve"
REJECT_ACTION = "medic_reject"
MAX_DIALOG_TEXT = 300  # Block Kit's limit for a confirmation dialog's text


def _confirm(title: str, text: Mrkdwn, confirm: str, style: str | None = None) -> dict[str, Any]:
    if len(text) > MAX_DIALOG_TEXT:
        text = Mrkdwn(text[: MAX_DIALOG_TEXT - 3] + "...")
    dialog: dict[str, Any] = {
        "title": plain(title),
        "text": mrkdwn(text),
        "confirm": plain(confirm),
        "deny": plain(messages.SLACK_CANCEL),
    }
    if style:
        dialog["style"] = style
    return dialog


def _buttons(p: Proposal) -> Block:
    change = exact_change(p.action)
    return {
        "type": "actions",
        "block_id": f"actions:{p.id}",
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE_ACTION,
                "text": plain(messages.SLACK_APPROVE),
                "style": "primary",
                "value": f"{p.id}:{p.digest}",
                "confirm": _confirm(
                    messages.SLACK_CONFIRM_APPROVE,
                    markup(messages.SLACK_CONFIRM_APPROVE_TEXT, change=change, preview=p.preview),
                    messages.SLACK_APPROVE,
                    "primary",
                ),
            },
            {
                "type": "button",
                "action_id": REJECT_ACTION,
                "text": plain(messages.SLACK_REJECT),
                "style": "danger",
                "value": p.id,
                "confirm": _confirm(
                    messages.SLACK_CONFIRM_REJECT,
                    markup(messages.SLACK_CONFIRM_REJECT_TEXT, change=change),
                    messages.SLACK_REJECT,
                    "danger",
                ),
            },
        ],
    }


def _approved(icon: str, p: Proposal, summary: Mrkdwn) -> Mrkdwn:
    return markup(
        "{} " + messages.APPROVED_BY,
        Mrkdwn(icon),
        user=who(p.decided_by),
        when=slack_time(p.decided_at or 0),
        summary=summary,
    )


def decision_line(p: Proposal, after: str = "") -> Mrkdwn:
    """One line on a decided proposal: who, when, what happened (and what verification found)."""
    if is_withdrawn(p):
        return markup(
            ":leftwards_arrow_with_hook: " + messages.WITHDRAWN,
            reason=messages.ALERT_RESOLVED_REASON,
            preview=p.preview,
        )
    if p.status is ProposalStatus.REJECTED:
        return markup(
            ":no_entry_sign: " + messages.REJECTED_BY, user=who(p.decided_by), preview=p.preview
        )
    if p.status is ProposalStatus.SUCCEEDED:
        summary = markup("{} - {}", p.outcome, after) if after else escape(p.outcome)
        return _approved(":white_check_mark:", p, summary)
    if p.status is ProposalStatus.FAILED:
        return _approved(":x:", p, markup(messages.OUTCOME_FAILED, outcome=p.outcome))
    if p.status is ProposalStatus.UNKNOWN:
        return _approved(":grey_question:", p, markup(messages.OUTCOME_UNKNOWN, outcome=p.outcome))
    if p.status in (ProposalStatus.APPROVED, ProposalStatus.EXECUTING):
        return _approved(":hourglass_flowing_sand:", p, markup(messages.OUTCOME_EXECUTING))
    if p.status is ProposalStatus.EXPIRED:
        return markup(":zzz: " + messages.EXPIRED, preview=p.preview)
    return markup("~{}~ {}", exact_change(p.action), p.refusal)


def proposal_blocks(p: Proposal, after: str = "") -> list[Block]:
    block_id = f"proposal:{p.id}"
    if p.status is ProposalStatus.PROPOSED:
        text = markup(
            "*{}*\nwhy: {}\nsource: {} · expires {}",
            p.preview,
            p.rationale,
            p.source,
            slack_time(p.expires_at),
        )
        return [section(text, block_id), _buttons(p)]
    return [section(decision_line(p, after), block_id)]


def diagnosis_message(
    text: Mrkdwn, head: list[Block], proposals: list[Proposal], after: str = ""
) -> Message:
    """The diagnosis with the current state of each proposal; ``after`` is what verification
    found, appended to executed proposals."""
    blocks = list(head)
    if not proposals:
        blocks.append(section(markup(messages.NO_PROPOSALS)))
    for p in proposals:
        blocks.extend(proposal_blocks(p, after))
    return Message(text, blocks)
