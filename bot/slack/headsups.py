"""The watch's heads-ups in Slack: a new thread (its root message through the outbox, the thread
recorded as one an alert can continue in) or a reply in an open one. The thread is kept as
``external``: an alert that later joins it adds its incidents to it and never replaces the
heads-up's root message.

A proposed change (right-sizing) is offered in the thread as an incident's proposals are: the
heads-up's incident is linked to the thread (never leading an investigation) and its message,
with Approve and Reject, is kept as that incident's diagnosis message - so a click is decided,
shown in place, run once and verified by the same code as an alert's."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from bot import messages
from bot.slack.blocks import Message, diagnosis_message, section
from bot.slack.limits import fit
from bot.slack.mrkdwn import markup
from bot.slack.outbox import ROOT, Outbox
from bot.slack.poster import ThreadPoster, diagnosis_ref
from bot.slack.thread_store import ThreadStore
from bot.watch.findings import Target
from bot.watch.proposals import Proposed
from bot.watch.store import WatchStore


class SlackHeadsUps:
    def __init__(
        self,
        *,
        store: ThreadStore,
        outbox: Outbox,
        poster: ThreadPoster,
        wall_clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._poster = poster
        self._wall = wall_clock

    def __call__(self, thread_key: str, channel: str, message: Message, root: bool) -> None:
        if not root:
            self._poster.reply(thread_key, channel, message)
            return
        now = self._wall()
        opened = self._store.open_thread(thread_key, channel, None, external=True, now=now)
        if opened.created:
            fitted = fit(message.blocks, message.text)
            payload = {"text": fitted.text, "blocks": fitted.blocks}
            self._outbox.post(thread_key, channel, payload, now=now, ref=ROOT, in_thread=False)
            self._poster.wake()

    def offer(self, thread_key: str, channel: str, proposed: Proposed) -> None:
        """The proposal of a heads-up's change, with its buttons, as a reply in the thread."""
        incident, proposal = proposed.incident, proposed.proposal
        now = self._wall()
        self._store.link(
            incident.id,
            thread_key,
            service=incident.service,
            namespace=incident.namespace,
            received_at=now,
            is_open=lambda _other: False,
            lead=False,
        )
        text = markup(
            messages.WATCH_OFFER,
            incident=incident.id,
            service=incident.service,
            namespace=incident.namespace,
            proposal=proposal.id,
        )
        head = [section(text)]
        message = diagnosis_message(text, head, [proposal])

        def post(session: Session) -> None:  # queued with the save, as a diagnosis is
            self._poster.reply(
                thread_key, channel, message, ref=diagnosis_ref(incident.id), session=session
            )

        if self._store.save_diagnosis(incident.id, text, head, [proposal.id], then=post):
            self._store.record(incident.id, "alert", incident.summary, now)
        else:  # offered before (the same heads-up): show the proposal's state as it is now
            self._poster.refresh_diagnosis(incident.id)
        self._poster.wake()


def headsup_thread(watch: WatchStore) -> Callable[[str, list[tuple[str, str]], float], str | None]:
    """What the alert intake asks: the heads-up thread an alert group continues in."""

    def find(alert_key: str, services: list[tuple[str, str]], now: float) -> str | None:
        targets = [Target(ns, svc) for ns, svc in dict.fromkeys(services)]
        return watch.thread_for_alert(alert_key, targets, now)

    return find
