"""Alerts into threads: an alert group becomes one thread whose root message follows the group;
the flow opens (or attaches to) an incident per alert, and the first incident of each service in
the thread leads it (it is investigated). When the alerts end, the flow resolves their incidents
and withdraws what nobody decided; the thread says so.

Several replicas may take in the same notification at once: the database decides which one opens
an incident, posts the root, and leads; the others join what it did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot import messages
from bot.alerts import AlertGroup, manual_alert, parse_alerts
from bot.errors import ConfigError, InputError
from bot.flow import IncidentFlow
from bot.slack import blocks
from bot.slack.metrics import BotMetrics
from bot.slack.mrkdwn import markup
from bot.slack.outbox import ROOT, Outbox
from bot.slack.poster import ThreadPoster
from bot.slack.thread_store import ThreadLink, ThreadStore

# (the alert group's own thread key, its (namespace, service) pairs, now) -> the heads-up
# thread it continues in, or None
HeadsUpThread = Callable[[str, list[tuple[str, str]], float], str | None]


@dataclass(frozen=True)
class Receipt:
    """What intake did with one notification."""

    thread_key: str
    incidents: list[str]
    investigating: list[str]
    withdrawn: int


class AlertIntake:
    def __init__(
        self,
        *,
        flow: IncidentFlow,
        store: ThreadStore,
        outbox: Outbox,
        poster: ThreadPoster,
        metrics: BotMetrics,
        alert_channel: str | None,
        investigate: Callable[[str], bool],
        refresh: Callable[[str], None],
        wall_clock: Callable[[], float],
        headsup: HeadsUpThread | None = None,
    ) -> None:
        """``investigate`` queues an incident's investigation; ``refresh`` re-renders its
        diagnosis message; ``headsup`` names the watch's heads-up thread an alert group joins
        (one for its services posted before it fired), if any."""
        self.flow = flow
        self.store = store
        self.outbox = outbox
        self.poster = poster
        self.metrics = metrics
        self.alert_channel = alert_channel
        self._investigate = investigate
        self._refresh = refresh
        self._wall = wall_clock
        self._headsup = headsup
        self._lock = threading.Lock()

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
        Raises InputError before anything is stored when an alert cannot be handled. With
        several clusters, each cluster's alerts of the group get a thread of their own; alerts
        naming a cluster not in the map are refused: one note in the thread of the group's other
        alerts, which are taken in all the same (InputError when none is left)."""
        refused: list[str] = []
        parts = self.flow.by_cluster(group, refused=refused)
        receipts = [
            self._receive(part, source=source, channel=channel, thread_key=thread_key,
                          root_ts=root_ts, received_at=received_at)
            for part in parts
        ]  # fmt: skip
        if refused:
            said = refused[0]
            if len(refused) > 1:
                said = messages.CLUSTER_UNKNOWN_MORE.format(first=said, more=len(refused) - 1)
            if not receipts:
                raise InputError(said)
            self._refused(receipts[0].thread_key, said)
        if len(receipts) == 1:
            return receipts[0]
        return Receipt(
            receipts[0].thread_key,
            [i for r in receipts for i in r.incidents],
            [i for r in receipts for i in r.investigating],
            sum(r.withdrawn for r in receipts),
        )

    def _receive(
        self,
        group: AlertGroup,
        *,
        source: str,
        channel: str | None,
        thread_key: str | None,
        root_ts: str | None,
        received_at: float | None,
    ) -> Receipt:
        with self._lock:
            received = received_at or self._wall()
            pairs = self.flow.intake(group)
            key = thread_key or group.group_key or f"alert:{group.alerts[0].identity}"
            existing = self.store.thread(key)
            if existing is None and thread_key is None and self._headsup is not None:
                services = [(i.namespace, i.service) for i, _new in pairs]
                key = self._headsup(key, services, received) or key
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
                self.poster.root(key, target, thread.view, opened.created, received)
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
                    is_open=self.flow.keeps_lead,
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
        self.poster.wake()
        for incident_id in investigate:
            self._investigate(incident_id)
        return Receipt(key, ids, investigate, withdrawn)

    def _refused(self, key: str, text: str) -> None:
        """Alerts of a notification left out (their cluster is unknown), said in the thread its
        other alerts went to."""
        with self._lock:
            thread = self.store.thread(key)
            if thread is not None:
                message = blocks.note_message(markup(":warning: {}", text))
                self.poster.reply(key, thread.channel, message)

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
            self.poster.wake()
            return
        with self._lock:
            key = group.group_key or f"alert:{group.alerts[0].identity}"
            existing = self.store.thread(key)
            channel = existing.channel if existing else self.alert_channel
            known = existing.view.incidents if existing and existing.view else []
            view = blocks.root_view(group, known, self.flow.default_namespace)
            opened = self.store.open_thread(key, channel, view, external=False, now=now)
            if opened.thread.view is not None and not opened.thread.external and opened.changed:
                self.poster.root(key, channel, opened.thread.view, opened.created, now)
            self.poster.reply(key, channel, message)

    def investigate_service(
        self,
        service: str,
        namespace: str | None,
        user: str,
        channel: str,
        since: int | None = None,
        cluster: str | None = None,
    ) -> Receipt:
        """`/medic investigate`: a manual alert, in a new thread in the asking channel; ``since``
        (seconds) asks for the suspect window's length; ``cluster`` names a cluster of the
        clusters map (None: the default)."""
        now = self.flow.clock.now()
        labels = self.flow.cluster_labels(cluster)  # an unknown name is refused here
        ns = namespace or self.flow.namespace_in(cluster)
        payload = manual_alert(
            service,
            ns,
            now,
            {"requested_by": user, "request": f"{now:.3f}", **labels},
            since=since,
        )
        payload["annotations"]["summary"] = messages.SLACK_MANUAL_ROOT.format(
            service=service, namespace=ns, user=user
        )
        group = parse_alerts(payload)
        return self.receive(
            group,
            source="slash",
            channel=channel,
            thread_key=f"manual:{channel}:{ns}/{service}:{now}"
            if cluster is None
            else f"manual:{channel}:{cluster}:{ns}/{service}:{now}",
        )

    def _resolve(self, group: AlertGroup, key: str, channel: str) -> int:
        """The flow resolves the incidents the group's resolved alerts ended and withdraws a
        service's pending proposals once all its alerts in the thread ended; the timeline and
        the thread say so."""
        resolved = self.flow.resolve(group)
        if not resolved:
            return 0
        now = self.flow.clock.now()
        leaders: dict[str, ThreadLink] = {}
        for incident, ended_here in resolved:
            if ended_here:  # once among the replicas
                self.store.record(incident.id, "resolved", "the alert resolved", now)
            leader = self.store.leader_of(incident.id)
            if leader is not None:
                leaders[leader.incident_id] = leader
        withdrawn = 0
        for leader in leaders.values():
            members = [
                link.incident_id
                for link in self.store.links(leader.thread_key)
                if (link.service, link.namespace) == (leader.service, leader.namespace)
            ]
            done = self.flow.withdraw_when_resolved(leader.proposal_ids, members)
            if done is None:
                continue
            for proposal in done:
                withdrawn += 1
                self.metrics.proposals.labels("withdrawn").inc()
                self.store.record(
                    leader.incident_id, "decision", f"withdrawn: {proposal.preview}", now
                )
            self._refresh(leader.incident_id)
        if withdrawn:
            self.poster.reply(key, channel, blocks.note_message(
                markup(messages.SLACK_ALERT_RESOLVED, count=withdrawn)
            ))  # fmt: skip
        return withdrawn
