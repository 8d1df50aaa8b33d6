"""Incidents as Slack threads: the Slack counterpart of :mod:`bot.cli.session`, driving the same
:class:`~bot.flow.IncidentFlow`. This module wires the parts and is what the Slack app, the slash
commands and the service use; each part translates one step between Slack and the flow:

- :mod:`bot.slack.intake`: alerts into threads (root message, incidents, resolution);
- :mod:`bot.slack.investigations`: the investigation job (queue, leases, dead letters) posting
  each diagnosis with its buttons and charts;
- :mod:`bot.slack.outcomes`: clicks on Approve/Reject and interrupted actions, in the thread;
- :mod:`bot.slack.verifying`: the verdict after an action, and the memory of it;
- :mod:`bot.slack.poster`: every message through the persisted outbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot import messages
from bot.errors import InputError
from bot.flow import IncidentFlow
from bot.incidents import Incident
from bot.slack import blocks
from bot.slack.intake import AlertIntake, HeadsUpThread, Receipt
from bot.slack.investigations import InvestigationJobs
from bot.slack.jobs import Jobs
from bot.slack.metrics import BotMetrics
from bot.slack.mrkdwn import Mrkdwn
from bot.slack.outbox import ROOT, Outbox, OutboxItem
from bot.slack.outcomes import DecisionOutcomes
from bot.slack.poster import ThreadPoster
from bot.slack.thread_store import ThreadLink, ThreadStore
from bot.slack.verifying import Verifications
from bot.slack.writeback import WriteBack
from tools.proposals import Proposal

__all__ = ["IncidentThreads", "Receipt"]


class IncidentThreads:
    def __init__(
        self,
        *,
        flow: IncidentFlow,
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
        headsup: HeadsUpThread | None = None,
    ) -> None:
        """``lease_seconds``: how long an investigation's lease lasts unrenewed (a dead replica's
        investigation is taken over after that); ``max_attempts``: tries that never finished
        before it is dead-lettered."""
        self.flow = flow
        self.store = store
        self.outbox = outbox
        self.jobs = jobs
        self.metrics = metrics
        self.alert_channel = alert_channel
        self._wall = wall_clock
        self.poster = ThreadPoster(
            store=store,
            outbox=outbox,
            proposal=flow.proposal,
            wake_delivery=wake_delivery,
            wall_clock=wall_clock,
        )
        self.investigations = InvestigationJobs(
            flow=flow,
            store=store,
            poster=self.poster,
            jobs=jobs,
            metrics=metrics,
            charts=charts,
            wall_clock=wall_clock,
            lease_seconds=lease_seconds,
            max_attempts=max_attempts,
        )
        self.intake = AlertIntake(
            flow=flow,
            store=store,
            outbox=outbox,
            poster=self.poster,
            metrics=metrics,
            alert_channel=alert_channel,
            investigate=self.investigations.queue,
            refresh=self.poster.refresh_diagnosis,
            wall_clock=wall_clock,
            headsup=headsup,
        )
        self.verifications = Verifications(flow=flow, store=store, poster=self.poster, jobs=jobs)
        self.outcomes = DecisionOutcomes(
            flow=flow,
            store=store,
            poster=self.poster,
            metrics=metrics,
            verify=self.verifications.request,
        )
        self.receive = self.intake.receive
        self.notice = self.intake.notice
        self.investigate_service = self.intake.investigate_service
        self.investigate = self.investigations.investigate
        self.resume = self.investigations.resume
        self.release_leases = self.investigations.release_leases
        self.stop_investigations = self.investigations.stop
        self.decide = self.outcomes.decide  # a click on Approve or Reject
        self.settle_interrupted = self.outcomes.settle_interrupted
        self.expire_due = self.outcomes.expire_due
        self.post_file = self.poster.post_file
        self.writeback: WriteBack | None = None  # set by the service when notes are configured

    def on_posted(self, item: OutboxItem, ts: str) -> None:
        """Delivery hook: a diagnosis reached Slack; measure from the alert's arrival, and write
        it back to the alert's source (PagerDuty, Opsgenie) when one is configured."""
        if item.op == "post" and item.ref.startswith("diagnosis:"):
            incident_id = item.ref.removeprefix("diagnosis:")
            link = self.store.link_of(incident_id)
            if link is not None:
                self.metrics.alert_to_diagnosis_seconds.observe(self._wall() - link.received_at)
            if self.writeback is not None:
                self.writeback.diagnosis_posted(incident_id)

    # --- questions from slash commands and mentions -------------------------------------------
    def incident_in(self, channel: str, incident_id: str | None, command: str) -> ThreadLink:
        """The incident a thread command is about: the named one, else the channel's latest open
        incident with a thread."""
        if incident_id:
            link = self.store.link_of(incident_id.upper())
            if link is None:
                raise InputError(messages.SLACK_UNKNOWN_INCIDENT.format(incident=incident_id))
            return link
        for link in self.store.in_channel(channel):
            if self.flow.is_open(link.incident_id):
                return link
        raise InputError(messages.SLACK_NO_INCIDENT.format(command=command))

    def say(self, channel: str, root_ts: str, text: str) -> None:
        """Medic's answer to a person in the thread of ``root_ts``: an incident's thread or any
        other (then remembered as a thread of its own, so the reply finds its place)."""
        key = self.outbox.thread_of_message(channel, root_ts)
        if key is None:
            key = f"conversation:{channel}:{root_ts}"
            self.outbox.remember_message(key, ROOT, channel, root_ts)
        self.poster.reply(key, channel, blocks.answer_message(text))

    def note(self, link: ThreadLink, text: Mrkdwn, kind: str = "note") -> None:
        thread = self.store.thread(link.thread_key)
        if thread is None:
            return
        self.store.record(link.incident_id, kind, text, self.flow.clock.now())
        self.poster.reply(link.thread_key, thread.channel, blocks.note_message(text))

    def open_incidents(self) -> list[tuple[Incident, list[Proposal]]]:
        return self.flow.open_incidents()
