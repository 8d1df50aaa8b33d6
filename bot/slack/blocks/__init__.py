"""Block Kit for the alert thread, by message kind: the root message (``root``), the diagnosis
(``diagnosis``), its proposals and decisions (``proposals``), later replies - verification,
interrupted actions, notes, answers (``replies``) - all made of ``elements``. Pure functions from
plain data to messages; every message leaves through :func:`bot.slack.limits.fit` before it is
sent.

Every text here is :class:`~bot.slack.mrkdwn.Mrkdwn`: the builders take nothing else, so alert,
log, label, user and model text reaches a block only through :func:`~bot.slack.mrkdwn.markup` or
:func:`~bot.slack.mrkdwn.escape`, and links only through :func:`~bot.slack.mrkdwn.link`. Which
items of a diagnosis are shown, and how many, is decided once for Slack and the terminal in
:mod:`bot.views`. Other modules import from this package, not from its modules.
"""

from bot.slack.blocks.diagnosis import diagnosis_blocks, diagnosis_head
from bot.slack.blocks.elements import (
    Message,
    context,
    exact_change,
    mrkdwn,
    plain,
    section,
    slack_time,
    who,
)
from bot.slack.blocks.proposals import (
    APPROVE_ACTION,
    REJECT_ACTION,
    decision_line,
    diagnosis_message,
    proposal_blocks,
)
from bot.slack.blocks.replies import (
    answer_message,
    interrupted_message,
    note_message,
    verification_message,
)
from bot.slack.blocks.root import RootView, root_message, root_view
from bot.slack.mrkdwn import Mrkdwn, escape, link, markup
from bot.views import short_check, verification_summary

__all__ = [
    "APPROVE_ACTION",
    "REJECT_ACTION",
    "Message",
    "Mrkdwn",
    "RootView",
    "answer_message",
    "context",
    "decision_line",
    "diagnosis_blocks",
    "diagnosis_head",
    "diagnosis_message",
    "escape",
    "exact_change",
    "interrupted_message",
    "link",
    "markup",
    "mrkdwn",
    "note_message",
    "plain",
    "proposal_blocks",
    "root_message",
    "root_view",
    "section",
    "short_check",
    "slack_time",
    "verification_message",
    "verification_summary",
    "who",
]
