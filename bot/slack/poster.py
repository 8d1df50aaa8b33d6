"""Messages into incident threads, through the persisted outbox: replies (cut to Slack's limits,
the full text attached when cut), the root message, files, and the diagnosis message re-rendered
in place as its proposals are decided."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot import messages
from bot.slack import blocks
from bot.slack.limits import as_markdown, fit
from bot.slack.mrkdwn import Mrkdwn, escape, markup, plain
from bot.slack.outbox import ROOT, Outbox
from bot.slack.thread_store import ThreadLink, ThreadStore
from tools.proposals import Proposal


def diagnosis_ref(incident_id: str) -> str:
    """The outbox reference of an incident's diagnosis message (updated in place)."""
    return f"diagnosis:{incident_id}"


class ThreadPoster:
    def __init__(
        self,
        *,
        store: ThreadStore,
        outbox: Outbox,
        proposal: Callable[[str], Proposal | None],
        wake_delivery: Callable[[], None],
        wall_clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.outbox = outbox
        self._proposal = proposal
        self._wake = wake_delivery
        self._wall = wall_clock
        self._render_lock = threading.Lock()

    def wake(self) -> None:
        """Tell the delivery loop there is something to send."""
        self._wake()

    def root(
        self, key: str, channel: str, view: blocks.RootView, created: bool, now: float
    ) -> None:
        """Post the thread's root message, or update it in place."""
        message = blocks.root_message(view)
        fitted = fit(message.blocks, message.text)
        payload = {"text": fitted.text, "blocks": fitted.blocks}
        if created:
            self.outbox.post(key, channel, payload, now=now, ref=ROOT, in_thread=False)
        else:
            self.outbox.update(key, ROOT, channel, payload, now=now)

    def reply(
        self,
        key: str,
        channel: str,
        message: blocks.Message,
        *,
        ref: str = "",
        more: str = "details.md",
        session: Session | None = None,
    ) -> None:
        """Queue ``message`` in the thread (in ``session``'s transaction when given), with its
        full text as a file when Slack's limits cut it."""
        fitted = fit(message.blocks, message.text)
        now = self._wall()
        self.outbox.post(
            key,
            channel,
            {"text": fitted.text, "blocks": fitted.blocks},
            now=now,
            ref=ref,
            session=session,
        )
        if fitted.cut:
            self.outbox.upload(
                key,
                channel,
                filename=more,
                title=messages.SLACK_FULL_TEXT_TITLE.format(filename=more),
                content=as_markdown(message.blocks).encode(),
                comment=markup(messages.SLACK_FULL_TEXT_COMMENT),
                now=now,
                session=session,
            )
        if session is None:
            self._wake()

    def reply_to(self, incident_id: str, message: blocks.Message) -> None:
        """A reply in the thread of ``incident_id``, if it has one."""
        link = self.store.link_of(incident_id)
        thread = self.store.thread(link.thread_key) if link else None
        if link is not None and thread is not None:
            self.reply(link.thread_key, thread.channel, message)

    def upload(
        self, key: str, channel: str, *, filename: str, title: str, content: bytes, comment: Mrkdwn
    ) -> None:
        self.outbox.upload(
            key,
            channel,
            filename=filename,
            title=title,
            content=content,
            comment=comment,
            now=self._wall(),
        )

    def post_file(self, link: ThreadLink, filename: str, title: str, content: str) -> None:
        thread = self.store.thread(link.thread_key)
        if thread is None:
            return
        self.upload(
            link.thread_key,
            thread.channel,
            filename=filename,
            title=plain(title),
            content=content.encode(),
            comment=escape(title),
        )
        self._wake()

    def refresh_diagnosis(self, incident_id: str) -> None:
        """Re-render the diagnosis message from the proposals' current state, in place."""
        with self._render_lock:
            link = self.store.link_of(incident_id)
            thread = self.store.thread(link.thread_key) if link else None
            if link is None or thread is None or not link.diagnosis_head:
                return
            proposals = [p for pid in link.proposal_ids if (p := self._proposal(pid))]
            # The stored text and head are Medic's own rendering of the diagnosis (escaped then).
            message = blocks.diagnosis_message(
                Mrkdwn(link.diagnosis_text), link.diagnosis_head, proposals, link.after
            )
            fitted = fit(message.blocks, message.text)
            self.outbox.update(
                link.thread_key,
                diagnosis_ref(incident_id),
                thread.channel,
                {"text": fitted.text, "blocks": fitted.blocks},
                now=self._wall(),
            )
        self._wake()
