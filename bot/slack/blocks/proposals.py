"""Proposals under the diagnosis: a pending one with its Approve and Reject buttons (each with a
dialog stating the exact change), a decided one as a line saying who decided what and what
happened. The whole diagnosis message is re-rendered from its stored head each time a proposal
changes, so the thread always shows every proposal's current state.
"""

from __future__ import annotations

from typing import Any, LiteralString

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


def dialog_text(template: LiteralString, change: str, **more: str) -> Mrkdwn:
    """``template`` with the exact change and ``more`` within the dialog's limit. What goes
    first is the end of ``more`` (the dry run's words, also in the message above); the change
    stays whole whenever it fits, and one longer than the dialog loses its middle, never its
    tool and target or its values (``replicas=6``). Values are cut before they are escaped, so
    no entity or markup is left half."""
    parts = {**more, "change": change}
    for key in (*more, "change"):
        if len(markup(template, **parts)) <= MAX_DIALOG_TEXT:
            break
        room = MAX_DIALOG_TEXT - len(markup(template, **{**parts, key: ""}))
        parts[key] = _cut(parts[key], room, middle=key == "change")
    return markup(template, **parts)


def _cut(value: str, room: int, *, middle: bool) -> str:
    """``value`` with an ellipsis for what goes (its end, or its ``middle``), taking at most
    ``room`` characters once escaped."""
    if len(escape(value)) <= room:
        return value
    room -= 1  # the ellipsis
    head = _prefix(value, room - room // 2 if middle else room)
    tail = _prefix(value[::-1], room - len(escape(head)))[::-1] if middle else ""
    return head + "…" + tail


def _prefix(value: str, room: int) -> str:
    """The longest start of ``value`` that takes at most ``room`` characters escaped."""
    used = 0
    for index, char in enumerate(value):
        used += len(escape(char))
        if used > room:
            return value[:index]
    return value


def _confirm(title: str, text: Mrkdwn, confirm: str, style: str | None = None) -> dict[str, Any]:
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
                    dialog_text(messages.SLACK_CONFIRM_APPROVE_TEXT, change, preview=p.preview),
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
                    dialog_text(messages.SLACK_CONFIRM_REJECT_TEXT, change),
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
