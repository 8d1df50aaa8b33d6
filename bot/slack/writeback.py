"""Write-back from the thread: once an incident's diagnosis reaches Slack, its summary, the
proposals waiting for approval and a link to the thread go as a note to the PagerDuty incident or
Opsgenie alert the alert came from (:mod:`bot.receivers.notes`).

It runs on a pool of its own, so a vendor that is slow or down never holds the thread; a note that
could not be written is one log line, a count in ``medic_writeback_notes{target,result}``, and a
note in the thread saying so - never lost silently.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from concurrent.futures import Executor

from prometheus_client import CollectorRegistry, Counter

from bot import messages
from bot.alerts import AlertSource
from bot.receivers.notes import NoteError, NoteTarget
from bot.slack import blocks
from bot.slack.mrkdwn import markup
from bot.slack.outbox import ROOT, Outbox
from bot.slack.poster import ThreadPoster
from bot.slack.thread_store import ThreadStore

log = logging.getLogger(__name__)

# Which of a source's ids names the object a note goes on.
NOTE_REF = {"pagerduty": "incident", "opsgenie": "alert"}
TARGET_NAMES = {"pagerduty": "PagerDuty incident", "opsgenie": "Opsgenie alert"}
MAX_SUMMARY = 3000


def thread_url(slack_url: str, channel: str, ts: str) -> str:
    """The thread's root message in Slack's archive form (``/archives/<channel>/p<ts>``)."""
    return f"{slack_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def note_text(
    incident: str, namespace: str, service: str, summary: str, proposals: list[str], thread: str
) -> str:
    """The note, plain text: Slack's escaping of the summary undone, markup stars dropped."""
    plain = html.unescape(summary).replace("*", "")[:MAX_SUMMARY]
    waiting = (
        messages.WRITEBACK_PROPOSALS.format(proposals="; ".join(proposals[:5]))
        if proposals else ""
    )  # fmt: skip
    return messages.WRITEBACK_NOTE.format(incident=incident, namespace=namespace,
                                          service=service, summary=plain, proposals=waiting,
                                          thread=thread)  # fmt: skip


class WriteBack:
    def __init__(
        self,
        *,
        targets: dict[str, NoteTarget],
        store: ThreadStore,
        outbox: Outbox,
        poster: ThreadPoster,
        pool: Executor,
        registry: CollectorRegistry,
        slack_url: str,
        pending: Callable[[list[str]], list[str]],
    ) -> None:
        """``targets`` by source kind (only those configured with an API key); ``pending``: the
        previews of the given proposals still waiting for a decision."""
        self._targets = targets
        self._store = store
        self._outbox = outbox
        self._poster = poster
        self._pool = pool
        self._slack_url = slack_url
        self._pending = pending
        self.notes = Counter(
            "medic_writeback_notes",
            "Diagnoses written back to the alert's source, by target and result.",
            ["target", "result"],
            registry=registry,
        )

    def diagnosis_posted(self, incident_id: str) -> bool:
        """Queue the note for ``incident_id`` if its alert came from a source with a target;
        True when one was queued."""
        link = self._store.link_of(incident_id)
        thread = self._store.thread(link.thread_key) if link else None
        source = thread.view.source if thread and thread.view else None
        if link is None or thread is None or source is None:
            return False
        target = self._targets.get(source.kind)
        ref = source.ids.get(NOTE_REF.get(source.kind, ""), "")
        if target is None or not ref:
            return False
        root = self._outbox.message(link.thread_key, ROOT)
        url = thread_url(self._slack_url, root.channel, root.ts) if root else "-"
        text = note_text(incident_id, link.namespace, link.service, link.diagnosis_text,
                         self._pending(link.proposal_ids), url)  # fmt: skip
        self._pool.submit(self._write, target, source, ref, text, link.thread_key, thread.channel)
        return True

    def _write(self, target: NoteTarget, source: AlertSource, ref: str, text: str, key: str,
               channel: str) -> None:  # fmt: skip
        try:
            target.add_note(ref, text)
        except NoteError as exc:
            reason = str(exc)
            log.warning("write-back to %s failed: %s", target.kind, reason)
            self.notes.labels(target.kind, "failed").inc()
            what = f"{TARGET_NAMES.get(source.kind, source.kind)} {ref}"
            self._poster.reply(key, channel, blocks.note_message(
                markup(messages.SLACK_WRITEBACK_FAILED, target=what, reason=reason)
            ))  # fmt: skip
            self._poster.wake()
            return
        except Exception:  # a bug must not end the pool's thread silently
            log.exception("write-back to %s failed", target.kind)
            self.notes.labels(target.kind, "failed").inc()
            return
        self.notes.labels(target.kind, "ok").inc()
