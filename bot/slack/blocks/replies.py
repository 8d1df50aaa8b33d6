"""Later replies in the thread: what verification found, what became of an action a stop
interrupted, notes, and answers to questions."""

from __future__ import annotations

from bot import messages
from bot.diagnosis.verification import Verification
from bot.slack.blocks.elements import Message, context, exact_change, section
from bot.slack.mrkdwn import Mrkdwn, escape, joined, markup
from tools.proposals import Proposal


def verification_message(incident_id: str, v: Verification) -> Message:
    verdict = messages.RECOVERED if v.recovered else messages.NOT_RECOVERED
    icon = Mrkdwn(":white_check_mark:" if v.recovered else ":warning:")
    lines = [
        markup("{} *" + messages.VERIFICATION_OF + "*", icon, incident=incident_id, verdict=verdict)
    ]
    lines += [markup("• {}", c.text) for c in v.checks]
    if v.note:
        lines.append(escape(v.note))
    fallback = markup(messages.VERIFICATION_OF, incident=incident_id, verdict=verdict)
    return Message(fallback, [section(joined("\n", lines))])


def interrupted_message(p: Proposal, finding: str, ran_now: bool) -> Message:
    """What became of an action a stop interrupted (or of an approval it left unstarted)."""
    change = exact_change(p.action)
    if ran_now:
        text = markup(messages.SLACK_RESUMED, change=change, finding=finding)
    else:
        text = markup(
            messages.SLACK_INTERRUPTED[p.status.value],
            change=change,
            finding=finding,
            target=p.action.target,
        )
    return Message(text, [section(text)])


def note_message(text: Mrkdwn) -> Message:
    return Message(text, [context(text)])


def answer_message(text: str) -> Message:
    """Medic's answer to a question in a thread: plain words, any alert or log text escaped."""
    return Message(escape(text), [section(escape(text), block_id="answer")])
