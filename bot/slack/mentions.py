"""`@medic ...` in Slack: the conversation of :mod:`bot.conversation` in an incident's thread.

A question (`why?`, `what changed?`, `show logs`, `what fixed this last time?`) is answered in the
thread from the incident's evidence - by the configured chat model when there is one, falling back
to the evidence alone; `why not X?` always from the ranking of the services around the incident,
and questions about the model ("which model is serving?") always from the look at it (their
numbers and times are exact, the model's paraphrase would not be). A correction ("root cause
was actually the DB pool") is recorded on the incident for the next similar one. A mention
anywhere else gets a short help. This is the slow half of a mention, run after Slack's ack.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.conversation import IncidentEvidence, answer, ask_llm
from bot.llm.model import ChatModel
from bot.slack.thread_store import ThreadLink
from bot.slack.threads import IncidentThreads
from bot.why_not import target

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>")
_INCIDENT = re.compile(r"\bINC-\d+\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9][-a-z0-9.]*")
SLACK_TS = re.compile(r"\d{1,12}\.\d{1,9}")  # a message's id in its channel, e.g. 1800000000.000100
CHANNEL_ID = re.compile(r"[A-Z0-9]{1,32}")


@dataclass(frozen=True)
class Mention:
    channel: str
    ts: str
    thread_ts: str | None  # the thread's root, when the mention is a reply in a thread
    user: str
    text: str  # without the mentions

    @classmethod
    def of(cls, event: dict[str, Any]) -> Mention:
        return cls(
            channel=str(event.get("channel", "")),
            ts=str(event.get("ts", "")),
            thread_ts=str(event["thread_ts"]) if event.get("thread_ts") else None,
            user=str(event.get("user", "")),
            text=" ".join(_MENTION.sub(" ", str(event.get("text", ""))).split()),
        )

    def addressable(self) -> bool:
        """Whether a reply can be placed: ids as Slack writes them (an answer to anything else
        would go to a thread Medic cannot name, or to the channel itself)."""
        return bool(
            CHANNEL_ID.fullmatch(self.channel)
            and SLACK_TS.fullmatch(self.ts)
            and (self.thread_ts is None or SLACK_TS.fullmatch(self.thread_ts))
        )


class Mentions:
    def __init__(self, threads: IncidentThreads, model: ChatModel | None = None) -> None:
        self._threads = threads
        self._model = model

    def reply(self, mention: Mention) -> None:
        """Answer ``mention`` in its thread."""
        root = mention.thread_ts or mention.ts
        link = self._incident_of(mention) if mention.thread_ts else None
        text = messages.MENTION_HELP if link is None else self._answer(link, mention)
        self._threads.say(mention.channel, root, text)

    def _incident_of(self, mention: Mention) -> ThreadLink | None:
        """The incident the mention is about: the thread's incident it names (by id or service),
        else the thread's first; None outside an incident's thread."""
        store = self._threads.store
        key = self._threads.outbox.thread_of_message(mention.channel, mention.thread_ts or "")
        links = store.links(key) if key else []
        leads = [link for link in links if link.lead]
        if not leads:
            return None
        named = {i.upper() for i in _INCIDENT.findall(mention.text)}
        for link in links:
            if link.incident_id in named:
                return store.leader_of(link.incident_id) or link
        words = set(_WORD.findall(mention.text.lower()))
        words.discard((target(mention.text) or "").lower())  # "why not X?" asks in this thread
        return next((link for link in leads if link.service in words), leads[0])

    def _answer(self, link: ThreadLink, mention: Mention) -> str:
        flow = self._threads.flow
        incident = flow.incident(link.incident_id)
        if incident is None or not link.investigated:
            return messages.MENTION_INVESTIGATING.format(incident=link.incident_id)
        if not link.diagnosis_head:  # the investigation failed: nothing to answer from
            return messages.MENTION_NO_DIAGNOSIS.format(
                incident=incident.id, service=incident.service, namespace=incident.namespace
            )
        diagnosis = flow.diagnosis_of(incident)
        corrections = flow.corrections_of([incident.id])
        evidence = IncidentEvidence(
            incident, diagnosis.investigation, diagnosis.plan, tuple(corrections.values())
        )
        reply = answer(mention.text, evidence, flow.catalog)
        if reply.intent == "correction":
            if flow.correct(incident.id, mention.text, mention.user) is None:
                return messages.CORRECTION_UNCLEAR
            self._threads.store.record(
                incident.id, "correction", f"{mention.user}: {mention.text}", flow.clock.now()
            )
            return reply.text
        # the ranking and the look at the model answer exactly; a paraphrase would not
        if self._model is not None and reply.intent not in ("why_not", "model"):
            return ask_llm(self._model, mention.text, evidence, flow.catalog)
        return reply.text
