"""Verification in the thread: after an action succeeded, the flow checks (after the configured
delay) whether the metrics the diagnosis found abnormal recovered, and remembers the incident;
the thread gets the verdict, the diagnosis message its "after" line, the timeline both.

The diagnosis verified is the one that was posted (kept by the flow, also across a restart), so a
verification never investigates or plans again.
"""

from __future__ import annotations

import logging
import threading

from bot import messages
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.verification import Verification
from bot.flow import IncidentFlow
from bot.incidents import Incident
from bot.slack import blocks
from bot.slack.jobs import Jobs
from bot.slack.mrkdwn import markup
from bot.slack.poster import ThreadPoster
from bot.slack.thread_store import ThreadStore
from bot.watch.proposals import from_watch
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)


class Verifications:
    def __init__(
        self, *, flow: IncidentFlow, store: ThreadStore, poster: ThreadPoster, jobs: Jobs
    ) -> None:
        self.flow = flow
        self.store = store
        self.poster = poster
        self.jobs = jobs
        self._lock = threading.Lock()
        self._requests: dict[str, int] = {}

    def request(self, incident_id: str) -> None:
        """Verify the incident (one verification at a time per incident)."""
        with self._lock:
            running = incident_id in self._requests
            self._requests[incident_id] = self._requests.get(incident_id, 0) + 1
        if not running:
            self.jobs.verifications.submit(self._verify, incident_id)

    def _verify(self, incident_id: str) -> None:
        """Verify after the configured delay, and say so once: when another action ran during the
        wait, this measurement is stale and the verification starts over (one verdict, one
        memory record, covering every action). The incident stays this job's until its verdict
        is posted and remembered: an action that ran meanwhile gets a later verdict of its own,
        never one racing this one (the stale verdict and memory would land last)."""
        try:
            while True:
                with self._lock:
                    seen = self._requests[incident_id]
                measured = self._measure(incident_id)
                with self._lock:
                    if self._requests[incident_id] != seen:
                        continue
                if measured is not None:
                    self._publish(*measured)
                with self._lock:
                    if self._requests[incident_id] == seen:
                        del self._requests[incident_id]
                        return
        except BaseException:
            with self._lock:
                del self._requests[incident_id]
            raise

    def _measure(
        self, incident_id: str
    ) -> tuple[Incident, Investigation | None, Verification] | None:
        incident = self.flow.incident(incident_id)
        if incident is None or self.store.link_of(incident_id) is None:
            return None
        if from_watch(incident):  # a heads-up's change: no diagnosis to re-read, none to keep
            return incident, None, self.flow.verify_change(incident)
        investigation = self.flow.diagnosis_of(incident).investigation
        return incident, investigation, self.flow.verify(incident, investigation)

    def _publish(
        self, incident: Incident, investigation: Investigation | None, verification: Verification
    ) -> None:
        link = self.store.link_of(incident.id)
        thread = self.store.thread(link.thread_key) if link else None
        if link is None or thread is None:
            return
        summary = blocks.verification_summary(verification)
        verdict = "recovered" if verification.recovered else "not recovered"
        self.store.record(
            incident.id, "verification", f"{verdict}: {summary}", self.flow.clock.now()
        )
        self.store.set_after(incident.id, summary)
        self.poster.refresh_diagnosis(incident.id)
        reply = self.poster.reply
        reply(
            link.thread_key, thread.channel, blocks.verification_message(incident.id, verification)
        )
        if investigation is None:
            return
        try:
            record = self.flow.remember(incident, investigation, verification)
        except KnowledgeError as exc:  # the memory's store is down: say so, keep the rest
            log.warning("incident %s not remembered: %s", incident.id, exc)
            text = markup(messages.SLACK_NOT_REMEMBERED, id=incident.id, reason=exc)
            reply(link.thread_key, thread.channel, blocks.note_message(text))
            return
        if record is not None:
            text = markup(
                messages.SLACK_REMEMBERED, id=record.id, outcome=record.outcome.replace("_", " ")
            )
            reply(link.thread_key, thread.channel, blocks.note_message(text))
