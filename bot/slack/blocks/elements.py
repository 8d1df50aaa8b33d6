"""The pieces every Medic message is made of: text objects, sections, context lines, times and
mentions, and :class:`Message` itself.

The builders take :class:`~bot.slack.mrkdwn.Mrkdwn` and nothing else, so alert, log, label, user
and model text reaches a block only through :func:`~bot.slack.mrkdwn.markup` or
:func:`~bot.slack.mrkdwn.escape`, and links only through :func:`~bot.slack.mrkdwn.link`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import messages
from bot.origin_views import At, Phrase, PhraseValue
from bot.slack.limits import Block
from bot.slack.mrkdwn import Mrkdwn, escape, markup
from bot.slack.mrkdwn import plain as plain_text
from tools.actions import Action

MAX_CONTEXT_ELEMENTS = 10  # Block Kit's limit for one context block


@dataclass(frozen=True)
class Message:
    text: Mrkdwn  # the fallback: notifications, and clients that show no blocks, read it
    blocks: list[Block]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def mrkdwn(text: Mrkdwn) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": plain_text(text), "emoji": True}


def section(text: Mrkdwn, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: Mrkdwn) -> Block:
    return {
        "type": "context",
        "elements": [mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]],
    }


def slack_time(ts: float) -> Mrkdwn:
    """A time Slack shows in each reader's time zone, with UTC as the fallback."""
    try:
        fallback = datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return escape(messages.UNKNOWN_TIME)
    return Mrkdwn(f"<!date^{int(ts)}^{{time}}|{fallback}>")


def who(user: str | None) -> Mrkdwn:
    """A mention for a Slack user id, the plain name for anyone else (the CLI, Medic itself)."""
    if user and user[:1] in "UW" and user.isalnum() and user.isascii():
        return Mrkdwn(f"<@{user}>")
    return escape(user or messages.SOMEONE)


def exact_change(action: Action) -> str:
    """'scale shop/recommender replicas=6': the change a button runs, as a reviewer checks it."""
    params = " ".join(f"{k}={v}" for k, v in sorted(action.params.items()))
    return f"{action.tool} {action.target}" + (f" {params}" if params else "")


def phrase(p: Phrase) -> Mrkdwn:
    """A sentence of the view (``bot.views.Phrase``) as mrkdwn: every value escaped, times
    shown in each reader's time zone."""

    def value(v: PhraseValue) -> object:
        if isinstance(v, Phrase):
            return phrase(v)
        if isinstance(v, At):
            return slack_time(v.ts)
        return v

    return markup(p.template, **{k: value(v) for k, v in p.values})
