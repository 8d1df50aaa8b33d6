"""Incidents as Slack threads: the Slack counterpart of :mod:`bot.cli.session`, driving the same
:class:`~bot.flow.IncidentFlow`.

An alert group becomes one thread (root message updated as the group changes); the first incident
of each service in the thread is investigated in the background and its diagnosis posted with
Approve/Reject buttons; decisions update that message in place, executed actions are verified
later and remembered. Everything posted goes through the persisted outbox.

Several replicas may share the state database and take in the same notifications: the database
decides which one opens an incident, posts the root, and investigates (under a lease, see
:mod:`bot.slack.lease`); the others join what it did.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bot import messages
from bot.alerts import AlertGroup, manual_alert, parse_alerts
from bot.diagnosis.budget import StoppedError
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.verification import Verification
from bot.errors import ConfigError, InputError, MedicError
from bot.flow import IncidentFlow, Outcome
from bot.incidents import Incident
from bot.slack import blocks
from bot.slack.charts import chart_findings, metric_chart
from bot.slack.decisions import Decisions, SlackUser
from bot.slack.evidence import Diagnosed, EvidenceCache
from bot.slack.jobs import Jobs
from bot.slack.lease import LeaseKeeper
from bot.slack.limits import as_markdown, fit
from bot.slack.metrics import BotMetrics
from bot.slack.mrkdwn import Mrkdwn, escape, markup, plain
from bot.slack.outbox import ROOT, Outbox, OutboxItem
from bot.slack.thread_store import Claim, ThreadLink, ThreadRecord, ThreadStore
from knowledge.errors import KnowledgeError
from tools.actions import ToolStatus
from tools.errors import StateUnavailableError, ToolError
from tools.proposals import Proposal, ProposalStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What intake did with one notification."""

    thread_key: str
    incidents: list[str]
    investigating: list[str]
    withdrawn: int


def diagnosis_ref(incident_id: str) -> str:
    return f"diagnosis:{incident_id}"


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


class IncidentThreads:
    def __init__(
        self,
        *,
        flow: IncidentFlow,
        decisions: Decisions,
        store: ThreadStore,
        outbox: Outbox,
        jobs: Jobs,
        metrics: BotMetrics,
        alert_channel: str | None,
        wake_delivery: Callable[[], None] = lambda: None,
        charts: bool = True,
        wall_clock: Callable[[], float] = time.time,
        lease_seconds: float = 60.0,
        max_attempts: int = 2,
    ) -> None:
        """``lease_seconds``: how long an investigation's lease lasts unrenewed (a dead replica's
        investigation is taken over after that); ``max_attempts``: tries that never finished
        before it is dead-lettered."""
        self.flow = flow
        self.decisions = decisions
        self.store = store
        self.outbox = outbox
        self.jobs = jobs
        self.metrics = metrics
        self.alert_channel = alert_channel
        self._wake = wake_delivery
        self._charts = charts
        self._wall = wall_clock
        self._intake_lock = threading.Lock()
        self._render_lock = threading.Lock()
        self._verify_lock = threading.Lock()
        self._verify_requests: dict[str, int] = {}
        self._evidence = EvidenceCache(flow)
        self._stopping = threading.Event()
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._replica = replica_name()
        self._queue_lock = threading.Lock()
        self._queued: set[str] = set()
        self._running: dict[str, str] = {}  # incident id -> the lease its investigation holds

    # --- alerts in -----------------------------------------------------------------------------
    def receive(
        self,
        group: AlertGroup,
        *,
        source: str,
        channel: str | None = None,
        thread_key: str | None = None,
        root_ts: str | None = None,
        received_at: float | None = None,
    ) -> Receipt:
        """Take in one notification: incidents opened or attached, the thread posted or its root
        updated, new services queued for investigation, resolved alerts' proposals withdrawn.
        Raises InputError before anything is stored when an alert cannot be handled."""
        with self._intake_lock:
            received = received_at or self._wall()
            pairs = self.flow.intake(group)
            key = thread_key or group.group_key or f"alert:{group.alerts[0].identity}"
            existing = self.store.thread(key)
            target = (existing.channel if existing else None) or channel or self.alert_channel
            if target is None:
                raise ConfigError("no alert channel: set MEDIC_ALERT_CHANNEL or alert_channel")
            ids = list(dict.fromkeys(i.id for i, _new in pairs))
            view = None
            if root_ts is None:
                view = blocks.root_view(group, ids, self.flow.default_namespace)
            opened = self.store.open_thread(
                key, target, view, external=root_ts is not None, now=received
            )
            thread = opened.thread
            if root_ts is not None and opened.created:
                self.outbox.remember_message(key, ROOT, target, root_ts)
            if thread.view is not None and not thread.external and opened.changed:
                self._send_root(key, target, thread.view, opened.created, received)
            investigate = []
            for incident, new in pairs:
                # Another replica may take in the same notification at once: the database lets
                # one of them open the incident and one link it; the one that links it leads.
                link, linked = self.store.link(
                    incident.id,
                    key,
                    service=incident.service,
                    namespace=incident.namespace,
                    received_at=received,
                    is_open=self._is_open,
                )
                if new:
                    self.store.record(
                        incident.id,
                        "alert",
                        f"{incident.alertname} fired ({source}): {incident.summary}",
                        incident.starts_at,
                    )
                if linked and link.lead:
                    investigate.append(incident.id)
            withdrawn = self._resolve(group, key, target)
            self.metrics.alerts_received.labels(source).inc(len(group.alerts))
        self._wake()
        for incident_id in investigate:
            self._queue_investigation(incident_id)
        return Receipt(key, ids, investigate, withdrawn)

    def _send_root(
        self, key: str, channel: str, view: blocks.RootView, created: bool, now: float
    ) -> None:
        message = blocks.root_message(view)
        fitted = fit(message.blocks, message.text)
        payload = {"text": fitted.text, "blocks": fitted.blocks}
        if created:
            self.outbox.post(key, channel, payload, now=now, ref=ROOT, in_thread=False)
        else:
            self.outbox.update(key, ROOT, channel, payload, now=now)

    def notice(self, text: str, group: AlertGroup | None = None) -> None:
        """An intake problem (``text``, plain words): in the thread of the alert ``group`` it is
        about (its root posted if it is new), else a message of its own in the alert channel."""
        if self.alert_channel is None:
            return
        now = self._wall()
        message = blocks.note_message(markup(":warning: {}", text))
        if group is None:
            self.outbox.post(
                f"notice:{now}", self.alert_channel, message.payload(), now=now, ref=ROOT,
                in_thread=False,
            )  # fmt: skip
            self._wake()
            return
        with self._intake_lock:
            key = group.group_key or f"alert:{group.alerts[0].identity}"
            existing = self.store.thread(key)
            channel = existing.channel if existing else self.alert_channel
            known = existing.view.incidents if existing and existing.view else []
            view = blocks.root_view(group, known, self.flow.default_namespace)
            opened = self.store.open_thread(key, channel, view, external=False, now=now)
            if opened.thread.view is not None and not opened.thread.external and opened.changed:
                self._send_root(key, channel, opened.thread.view, opened.created, now)
            self._reply(key, channel, message)

    def stop_investigations(self) -> None:
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

    def resume(self) -> int:
        """Queue the investigations nobody runs: a stop interrupted them, or the replica running
        them died and their lease expired (asked at start and every half lease); returns how
        many. Dead-lettered ones are not tried again."""
        waiting = self.store.awaiting_investigation(self._wall())
        return sum(self._queue_investigation(link.incident_id) for link in waiting)

    def _queue_investigation(self, incident_id: str) -> bool:
        """Queue an investigation unless it waits in this replica's queue already."""
        with self._queue_lock:
            if incident_id in self._queued:
                return False
            self._queued.add(incident_id)
        self.jobs.investigations.submit(self.investigate, incident_id)
        return True

    def settle_interrupted(self, after_seconds: float) -> int:
        """Settle the actions a stopped process interrupted and say in each one's thread what
        its target shows; returns how many."""
        settled = self.flow.settle_interrupted(after_seconds)
        now = self.flow.clock.now()
        for done in settled:
            proposal = done.proposal
            self.store.record(proposal.incident_id, "action", f"{proposal.status.value} "
                              f"(interrupted): {done.finding}", now)  # fmt: skip
            self.metrics.proposals.labels(proposal.status.value).inc()
            self._refresh_diagnosis(proposal.incident_id)
            link = self.store.link_of(proposal.incident_id)
            thread = self.store.thread(link.thread_key) if link else None
            if link is not None and thread is not None:
                message = blocks.interrupted_message(proposal, done.finding, done.ran_now)
                self._reply(link.thread_key, thread.channel, message)
            if proposal.status is ProposalStatus.SUCCEEDED:
                self._request_verification(proposal.incident_id)
        return len(settled)

    def on_posted(self, item: OutboxItem, ts: str) -> None:
        """Delivery hook: a diagnosis reached Slack; measure from the alert's arrival."""
        if item.op == "post" and item.ref.startswith("diagnosis:"):
            link = self.store.link_of(item.ref.removeprefix("diagnosis:"))
            if link is not None:
                self.metrics.alert_to_diagnosis_seconds.observe(self._wall() - link.received_at)

    # --- resolved alerts -------------------------------------------------------------------------
    def _resolve(self, group: AlertGroup, key: str, channel: str) -> int:
        ended = group.ended_episodes()
        if not ended:
            return 0
        now = self.flow.clock.now()
        leaders: dict[str, ThreadLink] = {}
        for incident in self.flow.incidents.open_with_fingerprints(ended):
            if incident.starts_at > ended[incident.fingerprint]:
                continue  # a later episode: this is a late copy from before it fired again
            if self.flow.incidents.resolve(incident.id, now):  # once among the replicas
                self.store.record(incident.id, "resolved", "the alert resolved", now)
            leader = self.store.leader_of(incident.id)
            if leader is not None:
                leaders[leader.incident_id] = leader
        withdrawn = 0
        for leader in leaders.values():
            members = [
                link
                for link in self.store.links(leader.thread_key)
                if (link.service, link.namespace) == (leader.service, leader.namespace)
            ]
            if any(self._is_open(m.incident_id) for m in members):
                continue
            for proposal_id in leader.proposal_ids:
                proposal = self.flow.proposals.get(proposal_id)
                if proposal is not None and proposal.status is ProposalStatus.PROPOSED:
                    outcome = self.decisions.withdraw(proposal_id)
                    if outcome.result.ok:
                        withdrawn += 1
                        self.metrics.proposals.labels("withdrawn").inc()
                        self.store.record(
                            leader.incident_id, "decision", f"withdrawn: {proposal.preview}", now
                        )
            self._refresh_diagnosis(leader.incident_id)
        if withdrawn:
            self._reply(key, channel, blocks.note_message(
                markup(messages.SLACK_ALERT_RESOLVED, count=withdrawn)
            ))  # fmt: skip
        return withdrawn

    def _is_open(self, incident_id: str) -> bool:
        incident = self.flow.incidents.get(incident_id)
        return incident is not None and incident.status == "open"

    # --- investigation -------------------------------------------------------------------------
    def investigate(self, incident_id: str) -> None:
        """Investigate, propose, and post the diagnosis with its charts (a background job), if
        this replica gets the investigation's lease."""
        try:
            self._investigate(incident_id)
        finally:
            with self._queue_lock:
                self._queued.discard(incident_id)

    def _investigate(self, incident_id: str) -> None:
        incident = self.flow.incidents.get(incident_id)
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
        )
        if claim is Claim.DEAD_NOW:
            self._dead_letter(incident, link, thread)
        if claim is not Claim.MINE:
            return
        log.info("investigating %s (try %d, lease %s)", incident_id, link.attempts + 1, owner)
        with self._queue_lock:
            self._running[incident_id] = owner
        try:
            self._run_investigation(incident, link, thread, owner)
        finally:
            with self._queue_lock:
                self._running.pop(incident_id, None)

    def _run_investigation(
        self, incident: Incident, link: ThreadLink, thread: ThreadRecord, owner: str
    ) -> None:
        incident_id = incident.id

        def renew() -> bool:
            return self.store.renew(incident_id, owner, self._wall() + self._lease_seconds)

        started = time.perf_counter()
        with LeaseKeeper(renew, self._lease_seconds, self._stopping) as lease:
            budget = self.flow.budget(lease.stop)
            try:
                investigation = self.flow.investigate(incident, budget)
                budget.check("planning")
                plan = self.flow.plan(incident, investigation)
                proposals = self.flow.propose(incident, investigation, plan)
            except StoppedError as exc:
                if not lease.lost:  # stopping: any replica may take it over at once
                    self.store.release(incident_id, owner)
                log.info("investigation of %s not finished: %s", incident_id, exc)
                return
            except Exception as exc:
                log.exception("investigation of %s failed", incident_id)
                if self.store.save_diagnosis(incident_id, "", [], [], owner):
                    self.metrics.investigations.labels("failed").inc()
                    self._reply(link.thread_key, thread.channel, blocks.note_message(
                        markup(
                            messages.SLACK_INVESTIGATION_FAILED, incident=incident_id,
                            reason=failure_reason(exc), service=incident.service,
                            namespace=incident.namespace,
                        )
                    ))  # fmt: skip
                return
        text, head = blocks.diagnosis_head(incident, investigation, self.flow.catalog, plan)
        if not self.store.save_diagnosis(incident_id, text, head, [p.id for p in proposals], owner):
            log.warning("investigation of %s was taken over; its result is dropped", incident_id)
            for proposal in proposals:
                if proposal.status is ProposalStatus.PROPOSED:
                    self.decisions.withdraw(proposal.id)
            return
        self.metrics.investigations.labels("ok").inc()
        self.metrics.investigation_seconds.observe(time.perf_counter() - started)
        self._evidence.keep(incident_id, investigation, plan)
        self._record_investigation(incident, investigation, proposals)
        message = blocks.diagnosis_message(text, head, proposals)
        self._reply(
            link.thread_key, thread.channel, message, ref=diagnosis_ref(incident_id),
            more=f"diagnosis-{incident_id}.md",
        )  # fmt: skip
        if self._charts:
            self._post_charts(link.thread_key, thread.channel, incident, investigation)
        self._wake()

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
        self._reply(link.thread_key, thread.channel, blocks.note_message(
            markup(
                messages.SLACK_INVESTIGATION_DEAD, incident=incident.id,
                attempts=self._max_attempts, service=incident.service,
                namespace=incident.namespace,
            )
        ))  # fmt: skip

    def evidence(self, incident: Incident) -> Diagnosed:
        """The investigation and plan behind the incident's diagnosis."""
        return self._evidence.of(incident)

    def _record_investigation(
        self, incident: Incident, inv: Investigation, proposals: list[Proposal]
    ) -> None:
        now = self.flow.clock.now()
        catalog = self.flow.catalog
        for f in inv.findings:
            self.store.record(incident.id, "finding", catalog.describe(f), f.start)
        for h in inv.hypotheses[:3]:
            self.store.record(incident.id, "hypothesis", f"{h.text} (score {h.score:.2f})", now)
        for m in inv.similar:
            fixed = ", ".join(r.describe() for r in m.record.remediation) or "-"
            self.store.record(
                incident.id, "similar", f"{m.record.id} {m.record.title} (fixed by {fixed})", now
            )
        for p in proposals:
            self.metrics.proposals.labels(p.status.value).inc()
            text = p.preview if p.status is ProposalStatus.PROPOSED else p.refusal
            self.store.record(incident.id, "proposal", text or blocks.exact_change(p.action), now)

    def _post_charts(self, key: str, channel: str, incident: Incident, inv: Investigation) -> None:
        series = {s.key: s for s in inv.series}
        for finding in chart_findings(inv.findings, self.flow.catalog):
            data = series.get(finding.key)
            if data is None or len(data) < 2:
                continue
            png = metric_chart(data, finding, self.flow.catalog, incident.service)
            self.outbox.upload(
                key,
                channel,
                filename=f"{incident.id}-{finding.metric}.png",
                title=plain(f"{incident.service}: {finding.metric}"),
                content=png,
                comment=markup("{} - the anomaly is shaded", self.flow.catalog.describe(finding)),
                now=self._wall(),
            )

    def _reply(
        self,
        key: str,
        channel: str,
        message: blocks.Message,
        *,
        ref: str = "",
        more: str = "details.md",
    ) -> None:
        fitted = fit(message.blocks, message.text)
        now = self._wall()
        self.outbox.post(
            key, channel, {"text": fitted.text, "blocks": fitted.blocks}, now=now, ref=ref
        )
        if fitted.cut:
            self.outbox.upload(
                key,
                channel,
                filename=more,
                title=f"Full text: {more}",
                content=as_markdown(message.blocks).encode(),
                comment=Mrkdwn("The message above was too long for Slack; here it is in full."),
                now=now,
            )
        self._wake()

    def _refresh_diagnosis(self, incident_id: str) -> None:
        """Re-render the diagnosis message from the proposals' current state, in place."""
        with self._render_lock:
            link = self.store.link_of(incident_id)
            thread = self.store.thread(link.thread_key) if link else None
            if link is None or thread is None or not link.diagnosis_head:
                return
            proposals = [p for pid in link.proposal_ids if (p := self.flow.proposals.get(pid))]
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

    # --- decisions -----------------------------------------------------------------------------
    def decide(
        self, approve: bool, proposal_id: str, user: SlackUser, digest: str = ""
    ) -> Outcome | None:
        """Approve (and execute once) or reject; None when there is no such proposal. A refusal
        is for the clicker's eyes only; when the guard stopped an approved action as it was to
        run (cooldown, a changed policy) the proposal is refused and the thread shows it."""
        outcome = (
            self.decisions.approve(proposal_id, user, digest)
            if approve
            else self.decisions.reject(proposal_id, user)
        )
        if outcome is None:
            return None
        try:
            self._show_decision(outcome, approve, user)
        except StateUnavailableError as exc:
            raise exc.after_recording() from exc
        return outcome

    def _show_decision(self, outcome: Outcome, approve: bool, user: SlackUser) -> None:
        """The decision in the incident's timeline and its diagnosis message."""
        if outcome.result.status is ToolStatus.REFUSED:
            if outcome.proposal.status is ProposalStatus.REFUSED:
                self._refresh_diagnosis(outcome.proposal.incident_id)
            return
        proposal = outcome.proposal
        now = self.flow.clock.now()
        verb = "approved" if approve else "rejected"
        self.store.record(proposal.incident_id, "decision", f"{verb} by {user.id}: "
                          f"{proposal.preview}", now)  # fmt: skip
        if approve:
            self.store.record(
                proposal.incident_id, "action", f"{outcome.result.status.value}: "
                f"{outcome.result.summary}", now,
            )  # fmt: skip
        self.metrics.proposals.labels(proposal.status.value).inc()
        self._refresh_diagnosis(proposal.incident_id)
        if proposal.status is ProposalStatus.SUCCEEDED:
            self._request_verification(proposal.incident_id)

    # --- verification and memory ---------------------------------------------------------------
    def _request_verification(self, incident_id: str) -> None:
        with self._verify_lock:
            running = incident_id in self._verify_requests
            self._verify_requests[incident_id] = self._verify_requests.get(incident_id, 0) + 1
        if not running:
            self.jobs.verifications.submit(self._verify, incident_id)

    def _verify(self, incident_id: str) -> None:
        """Verify after the configured delay, and say so once: when another action ran during the
        wait, this measurement is stale and the verification starts over (one verdict, one
        memory record, covering every action)."""
        while True:
            with self._verify_lock:
                seen = self._verify_requests[incident_id]
            try:
                measured = self._measure(incident_id)
            except BaseException:
                with self._verify_lock:
                    del self._verify_requests[incident_id]
                raise
            with self._verify_lock:
                if self._verify_requests[incident_id] != seen:
                    continue
                del self._verify_requests[incident_id]
            if measured is not None:
                self._publish_verification(*measured)
            return

    def _measure(self, incident_id: str) -> tuple[Incident, Investigation, Verification] | None:
        incident = self.flow.incidents.get(incident_id)
        if incident is None or self.store.link_of(incident_id) is None:
            return None
        investigation = self.evidence(incident).investigation
        return incident, investigation, self.flow.verify(incident, investigation)

    def _publish_verification(
        self, incident: Incident, investigation: Investigation, verification: Verification
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
        self._refresh_diagnosis(incident.id)
        self._reply(
            link.thread_key, thread.channel, blocks.verification_message(incident.id, verification)
        )
        try:
            record = self.flow.remember(incident, investigation, verification)
        except KnowledgeError as exc:  # the memory's store is down: say so, keep the rest
            log.warning("incident %s not remembered: %s", incident.id, exc)
            text = markup(messages.SLACK_NOT_REMEMBERED, id=incident.id, reason=exc)
            self._reply(link.thread_key, thread.channel, blocks.note_message(text))
            return
        if record is not None:
            text = markup(
                messages.SLACK_REMEMBERED, id=record.id, outcome=record.outcome.replace("_", " ")
            )
            self._reply(link.thread_key, thread.channel, blocks.note_message(text))

    # --- questions from slash commands ---------------------------------------------------------
    def investigate_service(
        self, service: str, namespace: str | None, user: str, channel: str
    ) -> Receipt:
        """`/medic investigate`: a manual alert, in a new thread in the asking channel."""
        now = self.flow.clock.now()
        ns = namespace or self.flow.default_namespace
        payload = manual_alert(service, ns, now, {"requested_by": user, "request": f"{now:.3f}"})
        payload["annotations"]["summary"] = messages.SLACK_MANUAL_ROOT.format(
            service=service, namespace=ns, user=user
        )
        group = parse_alerts(payload)
        return self.receive(
            group,
            source="slash",
            channel=channel,
            thread_key=f"manual:{channel}:{ns}/{service}:{now}",
        )

    def incident_in(self, channel: str, incident_id: str | None, command: str) -> ThreadLink:
        """The incident a thread command is about: the named one, else the channel's latest open
        incident with a thread."""
        if incident_id:
            link = self.store.link_of(incident_id.upper())
            if link is None:
                raise InputError(messages.SLACK_UNKNOWN_INCIDENT.format(incident=incident_id))
            return link
        for link in self.store.in_channel(channel):
            if self._is_open(link.incident_id):
                return link
        raise InputError(messages.SLACK_NO_INCIDENT.format(command=command))

    def post_file(self, link: ThreadLink, filename: str, title: str, content: str) -> None:
        thread = self.store.thread(link.thread_key)
        if thread is None:
            return
        self.outbox.upload(
            link.thread_key,
            thread.channel,
            filename=filename,
            title=plain(title),
            content=content.encode(),
            comment=escape(title),
            now=self._wall(),
        )
        self._wake()

    def say(self, channel: str, root_ts: str, text: str) -> None:
        """Medic's answer to a person in the thread of ``root_ts``: an incident's thread or any
        other (then remembered as a thread of its own, so the reply finds its place)."""
        key = self.outbox.thread_of_message(channel, root_ts)
        if key is None:
            key = f"conversation:{channel}:{root_ts}"
            self.outbox.remember_message(key, ROOT, channel, root_ts)
        self._reply(key, channel, blocks.answer_message(text))

    def note(self, link: ThreadLink, text: Mrkdwn, kind: str = "note") -> None:
        thread = self.store.thread(link.thread_key)
        if thread is None:
            return
        self.store.record(link.incident_id, kind, text, self.flow.clock.now())
        self._reply(link.thread_key, thread.channel, blocks.note_message(text))

    def open_incidents(self) -> list[tuple[Incident, list[Proposal]]]:
        found = []
        for incident in self.flow.incidents.open_incidents():
            pending = [
                p
                for p in self.flow.proposals.for_incident(incident.id)
                if p.status is ProposalStatus.PROPOSED
            ]
            found.append((incident, pending))
        return found
