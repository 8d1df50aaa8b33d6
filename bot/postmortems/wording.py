"""A chat model's wording of the draft, kept only when it adds no fact.

The model may join fragments into sentences; it may not state anything the record does not. What
can be checked mechanically is checked: every number (times, dates, durations, scores, replica
counts included), every URL, every identifier-like word (``checkout-db``, ``INC-0007``,
``shop/recommender``, ``latency_p95_ms``) and every ``@``-mention in the model's text must appear
in the draft written from the record, and the model may write no HTML and no link. A wording that
fails keeps the record's draft, with the reason. (A made-up fact in plain words - "a bad deploy" -
is beyond this check; the draft says it was reworded so a reader knows to compare.)"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.messages import HumanMessage, SystemMessage

from bot import messages
from bot.llm.calls import describe_failure
from bot.llm.model import ChatModel
from bot.postmortems.escape import md_plain
from bot.untrusted import ADDRESS
from prompts import load_prompt

MAX_GROWTH = 2.0  # the model's text may be at most this many times the draft's length
_LIST_NUMBER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)  # "1. " numbering a list, not a fact
_URL = ADDRESS
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# a word is tried from its first letter only: tried from each, a long word was quadratic
_IDENT = re.compile(r"[@#]?(?<![A-Za-z0-9])[A-Za-z0-9]+(?:[-_/.:@][A-Za-z0-9]+)+|@[A-Za-z0-9_.-]+")
_ABBREVIATION = re.compile(r"[A-Za-z]{1,4}(?:\.[A-Za-z]{1,4})+")
_MARKUP = re.compile(r"<[A-Za-z/!?]|\]\(|\]\[|^\s*\[[^\]]+\]:", re.MULTILINE)


@dataclass(frozen=True)
class Wording:
    markdown: str
    by: str  # 'record' (Medic's own) or 'llm'
    note: str  # why the model's wording was not used; empty when it was (or none was asked)


def unsupported(reworded: str, draft: str) -> list[str]:
    """The facts in ``reworded`` that ``draft`` does not hold, in order, each once."""
    source = md_plain(draft)
    text = _LIST_NUMBER.sub(" ", md_plain(reworded))
    known_numbers = set(_NUMBER.findall(source))
    missing: list[str] = []
    for url in _URL.findall(text):
        missing.append(url)
    text = _URL.sub(" ", text)
    for ident in _IDENT.findall(text):
        if _ABBREVIATION.fullmatch(ident) or _NUMBER.fullmatch(ident):
            continue  # "e.g", "i.e"; a bare number is checked below
        if ident.strip("@#.:") not in source:
            missing.append(ident)
    for number in _NUMBER.findall(text):
        if number not in known_numbers and number not in source:
            missing.append(number)
    return list(dict.fromkeys(missing))


def checked_wording(reworded: str, draft: str) -> str | None:
    """Why ``reworded`` cannot stand for ``draft``, or None when it can."""
    if not reworded.strip():
        return messages.WORDING_EMPTY
    if len(reworded) > MAX_GROWTH * len(draft):
        return messages.WORDING_TOO_LONG
    if _MARKUP.search(reworded):
        return messages.WORDING_MARKUP
    missing = unsupported(reworded, draft)
    if missing:
        shown = ", ".join(repr(m[:40]) for m in missing[:3])
        return messages.WORDING_UNSUPPORTED.format(facts=shown)
    return None


def reword(model: ChatModel | None, draft: str) -> Wording:
    """The draft in the model's words when they pass :func:`checked_wording`; else the draft."""
    if model is None:
        return Wording(draft, "record", "")
    prompt = [SystemMessage(load_prompt("postmortem_wording")), HumanMessage(draft)]
    try:
        reply = model.run(lambda _deadline: model.model.invoke(prompt))
    except Exception as exc:  # any client error, the deadline, no free slot: the record's draft
        why = describe_failure(exc)
        return Wording(draft, "record", messages.WORDING_UNAVAILABLE.format(why=why))
    reworded = _unfenced(str(getattr(reply, "content", reply)))
    problem = checked_wording(reworded, draft)
    if problem is not None:
        return Wording(draft, "record", messages.WORDING_NOT_USED.format(problem=problem))
    return Wording(reworded.strip() + "\n", "llm", "")


def _unfenced(text: str) -> str:
    """The document inside a ```markdown fence, when the model wrapped it in one."""
    fenced = re.fullmatch(r"\s*```[A-Za-z]*\n(.*)\n```\s*", text, re.DOTALL)
    return fenced.group(1) if fenced else text
