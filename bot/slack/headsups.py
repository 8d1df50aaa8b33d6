"""The watch's heads-ups in Slack: a new thread (its root message through the outbox, the thread
recorded as one an alert can continue in) or a reply in an open one. The thread is kept as
``external``: an alert that later joins it adds its incidents to it and never replaces the
heads-up's root message."""

from __future__ import annotations

from collections.abc import Callable

from bot.slack.blocks import Message
from bot.slack.limits import fit
from bot.slack.outbox import ROOT, Outbox
from bot.slack.poster import ThreadPoster
from bot.slack.thread_store import ThreadStore
from bot.watch.findings import Target
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


def headsup_thread(watch: WatchStore) -> Callable[[str, list[tuple[str, str]], float], str | None]:
    """What the alert intake asks: the heads-up thread an alert group continues in."""

    def find(alert_key: str, services: list[tuple[str, str]], now: float) -> str | None:
        targets = [Target(ns, svc) for ns, svc in dict.fromkeys(services)]
        return watch.thread_for_alert(alert_key, targets, now)

    return find
