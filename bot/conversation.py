"""The conversation in an incident thread: `@medic why?`, `why not checkout?`, `what changed?`,
`show logs`, `what fixed this last time?`, questions about the model ("which model is serving?",
"did the inputs drift?", "why not roll back the model?": bot.model_questions), and corrections
("root cause was actually the DB pool").

Answers are pure functions of the incident's evidence - the investigation, the plan and the
corrections recorded on the incident. A correction is recognised here and recorded by the caller
(``IncidentFlow.correct``). With a chat model configured, ``ask_llm`` answers free-form from the
same evidence, untrusted text delimited as data, falling back to these answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from langchain_core.messages import HumanMessage, SystemMessage

from bot import messages
from bot.diagnosis.changes import HISTORY, weigh_changes
from bot.diagnosis.corrections import Correction, parse_correction
from bot.diagnosis.events import describe
from bot.diagnosis.hypotheses import anomaly_start, clear_cause
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.llm.calls import describe_failure
from bot.llm.evidence import evidence_items, render
from bot.llm.model import ChatModel
from bot.model_questions import answer_model_question, model_question
from bot.planners.combine import Plan
from bot.untrusted import ADDRESS, Flag, looks_like_instruction
from bot.why_not import asks_why_not, why_not
from prompts import load_prompt
from tools.backends import ClusterEvent

Intent = Literal[
    "why", "why_not", "model", "what_changed", "logs", "last_time", "correction", "help"
]

MAX_EVENT_LINES = 10  # Kubernetes Events listed under "what changed"
_LAST_TIME = re.compile(r"last time|before|previous|what (fixed|worked)|similar|happened again")
_CHANGED = re.compile(r"chang|deploy|rollout|roll-out|release|what's new")
_LOGS = re.compile(r"\blogs?\b")
_WHY = re.compile(r"\bwhy\b|cause|explain|what happened|what's wrong|what is wrong")


@dataclass(frozen=True)
class IncidentEvidence:
    incident: Incident
    investigation: Investigation
    plan: Plan | None = None
    corrections: Sequence[Correction] = field(default_factory=tuple)  # on this incident


@dataclass(frozen=True)
class Reply:
    intent: Intent
    text: str
    correction: tuple[str | None, str | None] | None = None  # (cause, fix) to record


def intent_of(text: str, catalog: Glossary) -> Intent:
    q = text.lower().strip()
    if model_question(q) is not None:  # "why not roll back the model?" asks about the model
        return "model"
    if asks_why_not(q):
        return "why_not"
    if _LAST_TIME.search(q):
        return "last_time"
    if not q.endswith("?") and parse_correction(text, catalog) is not None:
        return "correction"
    if _CHANGED.search(q):
        return "what_changed"
    if _LOGS.search(q):
        return "logs"
    if _WHY.search(q):
        return "why"
    return "help"


def answer(text: str, evidence: IncidentEvidence, catalog: Glossary) -> Reply:
    """What Medic replies to ``text`` in the incident's thread."""
    intent = intent_of(text, catalog)
    if intent == "correction":
        parsed = parse_correction(text, catalog)
        assert parsed is not None
        return Reply(intent, _noted(parsed, catalog), parsed)
    if intent == "why_not":
        return Reply(intent, why_not(text, evidence.incident, evidence.investigation, catalog))
    if intent == "model":
        question = model_question(text.lower().strip())
        assert question is not None
        service = evidence.incident.service
        reply = answer_model_question(
            question, text, service, evidence.investigation, evidence.plan
        )
        return Reply(intent, reply)
    reply = {
        "why": _why,
        "what_changed": _what_changed,
        "logs": _logs,
        "last_time": _last_time,
        "help": _help,
    }[intent](evidence, catalog)
    return Reply(intent, reply)


def _help(_evidence: IncidentEvidence, _catalog: Glossary) -> str:
    return messages.CONVERSATION_HELP


def _noted(parsed: tuple[str | None, str | None], catalog: Glossary) -> str:
    cause, fix = parsed
    parts = []
    if cause is not None:
        parts.append(messages.CORRECTED_CAUSE.format(cause=catalog.cause(cause).title.lower()))
    if fix is not None:
        parts.append(messages.CORRECTED_FIX.format(fix=fix.replace("_", " ")))
    return messages.CORRECTION_NOTED.format(what=" and ".join(parts))


def _why(evidence: IncidentEvidence, catalog: Glossary) -> str:
    hypotheses = evidence.investigation.hypotheses
    lines = []
    people = [c for c in evidence.corrections if c.cause]
    if people:
        latest = people[-1]
        lines.append(messages.PERSON_SAID.format(by=latest.by, text=latest.text))
    best = clear_cause(hypotheses)
    if best is None:
        lines.append(messages.NO_HYPOTHESIS)
    else:
        lines.append(messages.MOST_LIKELY.format(cause=best.text, score=best.score))
        lines += [f"- {e.kind}: {e.text}" for e in best.evidence if e.weight > 0][:5]
    others = hypotheses[1:4] if best else hypotheses[:3]
    if others:
        template = messages.ALSO_POSSIBLE if best else messages.WEAK_GUESSES
        causes = "; ".join(f"{h.title} ({h.score:.2f})" for h in others)
        lines.append(template.format(causes=causes))
    return "\n".join(lines)


def _what_changed(evidence: IncidentEvidence, catalog: Glossary) -> str:
    events = _events(evidence.investigation.events)
    return _rollouts(evidence, catalog) + ("\n" + events if events else "")


def _events(events: Sequence[ClusterEvent]) -> str:
    """The Kubernetes Events in the window, most recent first (text: the thread escapes it)."""
    if not events:
        return ""
    lines = [f"- {describe(e)}" for e in sorted(events, key=lambda e: -e.at)[:MAX_EVENT_LINES]]
    return "\n".join([messages.WHAT_CHANGED_EVENTS, *lines])


def _rollouts(evidence: IncidentEvidence, catalog: Glossary) -> str:
    inv = evidence.investigation
    service = evidence.incident.service
    if not inv.changes:
        unread = any(messages.ROLLOUT_HISTORY_UNREAD in n for n in inv.notes)
        template = messages.NO_CHANGES_READ if unread else messages.NO_CHANGES
        return template.format(service=service, count=HISTORY)
    weighed = {change: e for change, e in weigh_changes(inv.changes, inv.findings, catalog)}
    start = anomaly_start(inv.findings, catalog)
    lines = []
    for change in inv.changes:
        if change in weighed:
            lines.append(f"- {weighed[change].text} (evidence {weighed[change].weight:.2f})")
        elif start is not None and change.at > start:
            lines.append("- " + messages.CHANGE_AFTER_SYMPTOMS.format(change=change.describe()))
        else:
            ago = datetime.fromtimestamp(change.at, UTC).strftime("%Y-%m-%d %H:%M")
            lines.append("- " + messages.CHANGE_TOO_EARLY.format(change=change.describe(), at=ago))
    return "\n".join(lines)


def _logs(evidence: IncidentEvidence, catalog: Glossary) -> str:
    stats = evidence.investigation.templates.abnormal if evidence.investigation.templates else []
    if not stats:
        return messages.NO_TEMPLATES
    return "\n".join(
        f"- [{s.change}] {s.current_rate:.1f}/min, e.g. `{_quoted(s.example)}`" for s in stats[:8]
    )


def _quoted(text: str) -> str:
    """Log text inside inline code: it cannot close the code span or mention anyone."""
    return text.replace("`", "'").replace("<", "‹").replace("@", "@\u200b")


def _last_time(evidence: IncidentEvidence, catalog: Glossary) -> str:
    similar = evidence.investigation.similar
    if not similar:
        return messages.NO_SIMILAR
    lines = []
    for m in similar:
        r = m.record
        done = ", ".join(x.describe() for x in r.remediation) or messages.NOTHING_RECORDED
        outcome = r.outcome.replace("_", " ")
        past = messages.PAST_INCIDENT.format(
            id=r.id, similarity=m.similarity, title=r.title, done=done, outcome=outcome
        )
        corrected = " " + messages.CAUSE_CORRECTED if "corrected by" in r.root_cause else ""
        lines.append(f"- {past}{corrected}")
    return "\n".join(lines)


def ask_llm(model: ChatModel, text: str, evidence: IncidentEvidence, catalog: Glossary) -> str:
    """A free-form answer from a chat model over the evidence, or the evidence-only answer with a
    note when the model fails, takes too long or is busy. An answer that reads like an
    instruction is not given as Medic's: the evidence-only answer is, with the model's text
    quoted in a flag."""
    inv = evidence.investigation
    items = evidence_items(
        findings=inv.findings,
        hypotheses=inv.hypotheses,
        templates=inv.templates.abnormal if inv.templates else [],
        changes=inv.changes,
        similar=inv.similar,
        annotations=evidence.incident.annotations,
        catalog=catalog,
    )
    shown = render(items)
    prompt = [
        SystemMessage(load_prompt("conversation_system")),
        HumanMessage(f"Evidence:\n{shown}\n\nQuestion: {text}"),
    ]
    try:
        reply = str(model.run(lambda _deadline: model.model.invoke(prompt)).content)
    except Exception as exc:  # any client error, the deadline, no free slot: the evidence
        why = describe_failure(exc)
        return f"{answer(text, evidence, catalog).text}\n{messages.LLM_UNAVAILABLE.format(why=why)}"
    unknown = unknown_links(reply, shown)
    if unknown:  # not quoted: Slack would make each one a link again
        note = messages.LLM_ANSWER_UNKNOWN_LINKS.format(count=len(unknown))
        return f"{answer(text, evidence, catalog).text}\n{note}"
    if looks_like_instruction(reply):
        return f"{answer(text, evidence, catalog).text}\n{Flag('LLM answer', reply).note()}"
    return reply


def unknown_links(reply: str, evidence: str) -> list[str]:
    """The addresses in a model's ``reply`` that the ``evidence`` it was shown does not hold,
    each once: Slack shows every one as a link, in Medic's voice, so a made-up or injected one
    ("sign in at ...") is a phishing link from the bot people trust."""
    found = (link.rstrip(".,;:!?'\"") for link in ADDRESS.findall(reply))
    return list(dict.fromkeys(link for link in found if link not in evidence))
