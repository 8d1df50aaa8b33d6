"""The investigation job: each leading incident is diagnosed by the flow in the background and its
diagnosis posted in the thread with Approve/Reject buttons and charts.

Replicas share the work through the state database: one holds an investigation's lease (renewed
while it runs, see :mod:`bot.slack.lease`); a dead replica's investigation is taken over after the
lease, and one that never finished ``max_attempts`` times is dead-lettered and said so once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot import messages
from bot.diagnosis.assembly import Diagnosis
from bot.diagnosis.budget import StoppedError
from bot.diagnosis.model_chart import shown_chart
from bot.errors import MedicError
from bot.flow import IncidentFlow
from bot.incidents import Incident
from bot.slack import blocks
from bot.slack.charts import chart_findings, drift_chart, metric_chart
from bot.slack.jobs import Jobs
from bot.slack.lease import LeaseKeeper, LeaseWatch
from bot.slack.metrics import BotMetrics
from bot.slack.mrkdwn import markup, plain
from bot.slack.poster import ThreadPoster, diagnosis_ref
from bot.slack.thread_store import Claim, ThreadLink, ThreadRecord, ThreadStore
from bot.slack.timeline import record_diagnosis
from knowledge.errors import KnowledgeError
from tools.errors import ToolError
from tools.proposals import ProposalStatus

log = logging.getLogger(__name__)


def replica_name() -> str:
    """This process among the replicas sharing the state database (host and pid), as lease
    holders are written: the log can tell which replica ran what."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def failure_reason(exc: Exception) -> str:
    """Why an investigation failed, for the thread: Medic's own errors are written for people;
    anything else (a MemoryError, a library's internals) is only in the log."""
    if isinstance(exc, MedicError | ToolError | KnowledgeError):
        return str(exc)
    return messages.INVESTIGATION_INTERNAL_ERROR


class InvestigationJobs:
    def __init__(
        self,
        *,
        flow: IncidentFlow,
        store: ThreadStore,
        poster: ThreadPoster,
        jobs: Jobs,
        metrics: BotMetrics,
        charts: bool,
        wall_clock: Callable[[], float],
        lease_seconds: float,
        max_attempts: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``lease_seconds``: how long an investigation's lease lasts unrenewed (a dead replica's
        investigation is taken over after that, as measured by ``monotonic``, this process's own
        clock); ``max_attempts``: tries that never finished before it is dead-lettered."""
        self.flow = flow
        self.store = store
        self.poster = poster
        self.jobs = jobs
        self.metrics = metrics
        self._charts = charts
        self._wall = wall_clock
        self._lease_seconds = lease_seconds
        self._leases = LeaseWatch(lease_seconds, monotonic)
        self._max_attempts = max_attempts
        self._replica = replica_name()
        self._stopping = threading.Event()
        self._queue_lock = threading.Lock()
        self._queued: set[str] = set()
        self._running: dict[str, str] = {}  # incident id -> the lease its investigation holds

    def queue(self, incident_id: str) -> bool:
        """Queue an investigation unless it waits in this replica's queue already."""
        with self._queue_lock:
            if incident_id in self._queued:
                return False
            self._queued.add(incident_id)
        self.jobs.investigations.submit(self.investigate, incident_id)
        return True

    def resume(self) -> int:
        """Queue the investigations nobody runs: a stop interrupted them, or the replica running
        them died - their lease has not changed for a whole lease of this process's own clock
        (asked at start and every half lease, so a dead replica is replaced after 1 to 1.5
        leases); returns how many. Dead-lettered ones are not tried again."""
        waiting = self.store.awaiting_investigation()
        self._leases.keep_only({link.incident_id for link in waiting})
        return sum(
            self.queue(link.incident_id)
            for link in waiting
            if self._leases.expired(link.incident_id, link.lease_owner, link.lease_until)
        )

    def stop(self) -> None:
        """Shutting down: a running investigation ends at its next stage, unfinished (it is
        investigated again at the next start)."""
        self._stopping.set()

    def release_leases(self) -> int:
        """The process is ending with investigations still running (a stalled source outlived
        the stop's grace): give their leases back, uncounted, so the next start or another
        replica takes them at once instead of after the lease; returns how many."""
        with self._queue_lock:
            running = dict(self._running)
        for incident_id, owner in running.items():
            self.store.release(incident_id, owner)
        return len(running)

    def investigate(self, incident_id: str) -> None:
        """Diagnose and post the diagnosis with its charts (a background job), if this replica
        gets the investigation's lease."""
        try:
            self._investigate(incident_id)
        finally:
            with self._queue_lock:
                self._queued.discard(incident_id)

    def _investigate(self, incident_id: str) -> None:
        incident = self.flow.incident(incident_id)
        link = self.store.link_of(incident_id)
        thread = self.store.thread(link.thread_key) if link else None
        if incident is None or link is None or thread is None or link.investigated or link.dead:
            return
        owner = f"{self._replica}:{uuid.uuid4().hex[:12]}"
        claim = self.store.claim(
            incident_id,
            owner,
            now=self._wall(),
            seconds=self._lease_seconds,
            max_attempts=self._max_attempts,
            expired=lambda holder, version: self._leases.expired(incident_id, holder, version),
        )
        if claim is Claim.DEAD_NOW:
            self._dead_letter(incident, link, thread)
        if claim is not Claim.MINE:
            return
        log.info("investigating %s (try %d, lease %s)", incident_id, link.attempts + 1, owner)
        with self._queue_lock:
            self._running[incident_id] = owner
        try:
            self._run(incident, link, thread, owner)
        finally:
            with self._queue_lock:
                self._running.pop(incident_id, None)

    def _run(self, incident: Incident, link: ThreadLink, thread: ThreadRecord, owner: str) -> None:
        incident_id = incident.id

        def renew() -> bool:
            return self.store.renew(incident_id, owner, self._wall() + self._lease_seconds)

        started = time.perf_counter()
        with LeaseKeeper(renew, self._lease_seconds, self._stopping) as lease:
            try:
                diagnosis, proposals = self.flow.diagnose(
                    incident, self.flow.budget(lease.stop), keep=False
                )
            except StoppedError as exc:
                if not lease.lost:  # stopping: any replica may take it over at once
                    self.store.release(incident_id, owner)
                log.info("investigation of %s not finished: %s", incident_id, exc)
                return
            except Exception as exc:
                log.exception("investigation of %s failed", incident_id)
                note = blocks.note_message(markup(
                    messages.SLACK_INVESTIGATION_FAILED, incident=incident_id,
                    reason=failure_reason(exc), service=incident.service,
                    namespace=incident.namespace,
                ))  # fmt: skip

                def say(session: Session) -> None:
                    self.poster.reply(link.thread_key, thread.channel, note, session=session)

                if self.store.save_diagnosis(incident_id, "", [], [], owner, then=say):
                    self.metrics.investigations.labels("failed").inc()
                    self.poster.wake()
                return
        investigation, plan = diagnosis.investigation, diagnosis.plan
        text, head = blocks.diagnosis_head(incident, investigation, self.flow.catalog, plan)
        message = blocks.diagnosis_message(text, head, proposals)

        def post(session: Session) -> None:  # queued with the save: a kill cannot split them
            self.poster.reply(
                link.thread_key, thread.channel, message, ref=diagnosis_ref(incident_id),
                more=f"diagnosis-{incident_id}.md", session=session,
            )  # fmt: skip

        ids = [p.id for p in proposals]
        if not self.store.save_diagnosis(incident_id, text, head, ids, owner, then=post):
            log.warning("investigation of %s was taken over; its result is dropped", incident_id)
            for proposal in proposals:
                if proposal.status is ProposalStatus.PROPOSED:
                    self.flow.withdraw(proposal.id)
            return
        self.metrics.investigations.labels("ok").inc()
        self.metrics.investigation_seconds.observe(time.perf_counter() - started)
        self.flow.keep(diagnosis)
        for p in proposals:
            self.metrics.proposals.labels(p.status.value).inc()
        record_diagnosis(self.store, self.flow.catalog, incident, investigation, proposals,
                         self.flow.clock.now())  # fmt: skip
        if self._charts:
            self._post_charts(link.thread_key, thread.channel, incident, diagnosis)
        self.poster.wake()

    def _dead_letter(self, incident: Incident, link: ThreadLink, thread: ThreadRecord) -> None:
        """Said once, by the replica whose claim dead-lettered it."""
        log.error("investigation of %s dead-lettered after %d unfinished tries", incident.id,
                  self._max_attempts)  # fmt: skip
        self.metrics.investigations.labels("dead").inc()
        self.store.record(
            incident.id,
            "investigation",
            f"dead-lettered after {self._max_attempts} unfinished tries",
            self.flow.clock.now(),
        )
        self.poster.reply(link.thread_key, thread.channel, blocks.note_message(
            markup(
                messages.SLACK_INVESTIGATION_DEAD, incident=incident.id,
                attempts=self._max_attempts, service=incident.service,
                namespace=incident.namespace,
            )
        ))  # fmt: skip

    def _post_charts(
        self, key: str, channel: str, incident: Incident, diagnosis: Diagnosis
    ) -> None:
        catalog = self.flow.catalog
        series = {s.key: s for s in diagnosis.investigation.series}
        for finding in chart_findings(diagnosis.investigation.findings, catalog):
            data = series.get(finding.key)
            if data is None or len(data) < 2:
                continue
            self.poster.upload(
                key,
                channel,
                filename=f"{incident.id}-{finding.metric}.png",
                title=plain(f"{incident.service}: {finding.metric}"),
                content=metric_chart(data, finding, catalog, incident.service),
                comment=markup("{} - the anomaly is shaded", catalog.describe(finding)),
            )
        shown = shown_chart(diagnosis.investigation)  # the origin's model's, when at fault
        if shown is not None:
            self.poster.upload(
                key,
                channel,
                filename=f"{incident.id}-model-drift.png",
                title=plain(shown.title),
                content=drift_chart(shown.chart),
                comment=markup("{}", shown.title),
            )
