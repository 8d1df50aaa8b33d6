"""`medic postmortem draft|publish` and `/medic postmortem draft`: the draft built from the
incident's record, worded by the chat model when one is configured and its wording adds no fact,
saved with the incident; a finished postmortem put into the memory's postmortem library so the
next search finds it. One way in for both front ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import messages
from bot.diagnosis.corrections import CorrectionStore
from bot.diagnosis.signals import Glossary
from bot.errors import InputError
from bot.incidents import Incident, IncidentStore
from bot.llm.model import ChatModel
from bot.postmortems.draft import postmortem_markdown, same_draft
from bot.postmortems.escape import md_text
from bot.postmortems.record import read_incident_file
from bot.postmortems.store import PostmortemStore
from bot.postmortems.wording import Wording, reword
from bot.slack.thread_store import TimelineEntry
from knowledge.postmortems import Postmortem, PostmortemLibrary
from tools.clock import Clock
from tools.proposals import ProposalStore

if TYPE_CHECKING:
    from bot.flow import IncidentFlow

MAX_POSTMORTEM_BYTES = 1024 * 1024  # a published postmortem; a long one is ~30 kB
REPEAT_SECONDS = 60.0  # the same draft asked again within this is the one already given


@dataclass(frozen=True)
class Drafted:
    incident: Incident
    markdown: str
    wording: str  # 'record' or 'llm'
    note: str  # why the model's wording was not used, or empty
    seconds: float
    repeated: bool = False  # the same draft was saved moments ago (asked twice at once)

    @property
    def filename(self) -> str:
        return f"postmortem-{self.incident.id}.md"


class PostmortemDrafter:
    def __init__(
        self,
        *,
        incidents: IncidentStore,
        proposals: ProposalStore,
        postmortems: PostmortemStore,
        clock: Clock,
        corrections: CorrectionStore | None = None,
        chat: ChatModel | None = None,
        catalog: Glossary | None = None,
    ) -> None:
        self._incidents = incidents
        self._proposals = proposals
        self._postmortems = postmortems
        self._corrections = corrections
        self._clock = clock
        self._chat = chat
        self._catalog = catalog or Glossary()

    def incident(self, incident_id: str) -> Incident:
        """The incident named ``incident_id``; InputError in one line when there is none."""
        incident = self._incidents.get(incident_id.strip())
        if incident is None:
            shown = incident_id.strip()[:40]
            raise InputError(messages.POSTMORTEM_NO_INCIDENT.format(incident=shown))
        return incident

    def draft(
        self,
        incident_id: str,
        *,
        diagnosed_as: str | None = None,
        thread: Sequence[TimelineEntry] = (),
    ) -> Drafted:
        """Build, word and save the incident's draft. ``diagnosed_as``: the incident whose
        diagnosis and proposals stand for this one (the lead of its thread, in Slack)."""
        started = time.perf_counter()
        incident = self.incident(incident_id)
        lead = self.incident(diagnosed_as) if diagnosed_as else incident
        correction = None
        if self._corrections is not None:
            correction = self._corrections.latest([incident.id, lead.id]).get(lead.id)
        file = read_incident_file(
            lead,
            self._incidents,
            self._proposals,
            self._postmortems,
            correction=correction,
            thread=thread,
        )
        if lead.id != incident.id:
            file = replace(file, incident=incident)
        plain = postmortem_markdown(file, self._catalog, self._clock.now())
        worded: Wording = reword(self._chat, plain)
        markdown = worded.markdown
        if worded.note:
            # the note quotes the model's words: data, made inert like any other field
            markdown += messages.POSTMORTEM_WORDING_UNUSED.format(note=md_text(worded.note))
        elif worded.by == "llm":
            markdown += messages.POSTMORTEM_WORDED_BY_LLM
        saved = self._postmortems.save_draft_once(
            incident.id,
            markdown,
            worded.by,
            worded.note,
            self._clock.now(),
            within=REPEAT_SECONDS,
            same=same_draft,
        )
        seconds = time.perf_counter() - started
        return Drafted(incident, markdown, worded.by, worded.note, seconds, repeated=not saved)

    def saved(self, incident_id: str) -> str | None:
        """The incident's saved draft, or None."""
        stored = self._postmortems.draft(self.incident(incident_id).id)
        return stored.markdown if stored else None

    def publish(
        self, incident_id: str, text: str, library: Callable[[], PostmortemLibrary]
    ) -> tuple[int, int]:
        """Put ``text`` (the finished postmortem, Markdown) into the postmortem library as the
        incident's postmortem, replacing an earlier publication of it (its chunks go: search
        finds the incident's postmortem once, in its latest wording); (postmortems, chunks)."""
        incident = self.incident(incident_id)
        if not text.strip():
            raise InputError(messages.POSTMORTEM_EMPTY.format(incident=incident.id))
        if len(text.encode()) > MAX_POSTMORTEM_BYTES:
            limit = MAX_POSTMORTEM_BYTES
            raise InputError(messages.POSTMORTEM_TOO_LONG.format(incident=incident.id, limit=limit))
        title = _title(text) or f"{incident.id}: {incident.summary}"
        postmortem = Postmortem(
            id=f"medic-{incident.id}",
            title=title[:200],
            text=_untitled(text),
            url="",
            origin=f"medic postmortem {incident.id}",
        )
        memory = library()
        counts = memory.ingest([postmortem])
        _drop_earlier(memory, postmortem)
        self._postmortems.mark_published(incident.id, text, self._clock.now())
        return counts


def _drop_earlier(memory: PostmortemLibrary, postmortem: Postmortem) -> None:
    """Remove the chunks an earlier publication of this postmortem left: they are stored under
    ids of that text, so without this search would still find the old wording in its results.
    Removed after the new chunks are in, so a failed ingest loses nothing."""
    memory.collection.delete(
        where={"$and": [{"doc": postmortem.id}, {"record": {"$ne": postmortem.record}}]}  # type: ignore[dict-item]
    )


def _untitled(markdown: str) -> str:
    """The text without its first ``# `` heading: the title is stored and shown on its own, and
    repeated in the text it would open every search snippet of the postmortem."""
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "\n".join(lines[:i] + lines[i + 1 :]).strip()
    return markdown


def _title(markdown: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def drafter_of(flow: IncidentFlow) -> PostmortemDrafter:
    """The drafter over the flow's stores, chat model and catalog (one per front end)."""
    if flow.postmortems is None:
        raise ValueError("the flow keeps no postmortems (IncidentFlow(postmortems=...))")
    return PostmortemDrafter(
        incidents=flow.incidents,
        proposals=flow.proposals,
        postmortems=flow.postmortems,
        clock=flow.clock,
        corrections=flow.corrections,
        chat=flow.chat,
        catalog=flow.catalog,
    )
