"""What the Slack side remembers, persisted next to the incidents: one thread per alert group,
which incidents live in which thread (and which one leads the investigation of its service), the
diagnosis shown in the thread, each incident's timeline, and Slack event ids already handled.

Several replicas share these tables. A thread and an incident's place in it are inserted with
``INSERT .. ON CONFLICT DO NOTHING`` (one root message, one link, whoever comes first), the choice
of the incident that leads a service's investigation is made holding the thread's row lock, and
each investigation is run under a lease (:meth:`ThreadStore.claim`): one replica at a time,
renewed while it runs, taken over by another replica once it expires, and dead-lettered after
``investigation.max_attempts`` tries that never finished. Between replicas, "expired" is judged
by the taker's own clock watching the lease row stop changing
(:class:`bot.slack.lease.LeaseWatch`), never by comparing ``lease_until`` - one host's wall
clock - with another host's. The tables are declared in :mod:`bot.slack.thread_tables`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.slack.blocks import RootView
from bot.slack.limits import Block
from bot.slack.thread_tables import EventRow, LinkRow, SeenRow, ThreadRow
from tools.schema import record_from
from tools.transactions import transaction
from tools.upsert import insert_new


@dataclass(frozen=True)
class ThreadRecord:
    key: str
    channel: str
    external: bool
    view: RootView | None


@dataclass(frozen=True)
class ThreadLink:
    incident_id: str
    thread_key: str
    service: str
    namespace: str
    lead: bool
    received_at: float
    investigated: bool
    diagnosis_text: str
    diagnosis_head: list[Block]
    proposal_ids: list[str]
    after: str
    attempts: int = 0
    dead: bool = False
    lease_owner: str = ""  # who holds the investigation's lease ("" nobody)
    lease_until: float = 0.0  # by the holder's clock; changes at every renewal


class Claim(StrEnum):
    """What :meth:`ThreadStore.claim` found."""

    MINE = "mine"  # the lease is the caller's: investigate
    BUSY = "busy"  # another replica holds a lease that has not expired
    DONE = "done"  # investigated already (or nothing to investigate)
    DEAD_NOW = "dead_now"  # too many tries: dead-lettered by this call (say so, once)
    DEAD = "dead"  # dead-lettered before


@dataclass(frozen=True)
class ThreadOpened:
    """The thread after :meth:`ThreadStore.open_thread`: created by this call, or its root view
    changed by it."""

    thread: ThreadRecord
    created: bool
    changed: bool


@dataclass(frozen=True)
class TimelineEntry:
    at: float
    kind: str
    text: str


class ThreadStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- threads -------------------------------------------------------------------------------
    @transaction
    def thread(self, key: str) -> ThreadRecord | None:
        with Session(self._engine) as session:
            row = session.get(ThreadRow, key)
            return _thread(row) if row else None

    @transaction
    def open_thread(
        self, key: str, channel: str, view: RootView | None, *, external: bool, now: float
    ) -> ThreadOpened:
        """The thread for ``key``, created if new - else its root view is replaced by ``view``
        unless ``view`` is a late copy of an older state, keeping the incidents it listed
        (another replica may have added some)."""
        with Session(self._engine) as session, session.begin():
            values = {
                "key": key,
                "channel": channel,
                "external": external,
                "view": view.model_dump_json() if view else "",
                "created_at": now,
                "updated_at": now,
            }
            created = insert_new(session, ThreadRow, values, key=["key"])
            row = session.get(ThreadRow, key, with_for_update=True, populate_existing=True)
            assert row is not None  # inserted by this call or an earlier one
            if created or view is None:
                return ThreadOpened(_thread(row), created, created)
            before = _thread(row).view
            known = before.incidents if before else []
            shown = view if before is None or before.outdated_by(view) else before
            merged = shown.model_copy(
                update={"incidents": list(dict.fromkeys(known + view.incidents))}
            )
            if merged == before:
                return ThreadOpened(_thread(row), False, False)
            row.view, row.updated_at = merged.model_dump_json(), now
            return ThreadOpened(_thread(row), False, True)

    # --- incidents in threads ------------------------------------------------------------------
    @transaction
    def link(
        self,
        incident_id: str,
        thread_key: str,
        *,
        service: str,
        namespace: str,
        received_at: float,
        is_open: Callable[[str], bool],
        lead: bool | None = None,
    ) -> tuple[ThreadLink, bool]:
        """Put an incident in a thread; True when this call did. An incident leads - it is the
        one investigated - unless an open incident of its service already is in the thread;
        then it joins that one's diagnosis. A group that resolved and fires again thus gets a
        new investigation in the same thread. Decided holding the thread's row lock, so two
        replicas linking two incidents of one service at once make one the leader. ``lead``
        decides instead (False: a heads-up's incident, never investigated)."""
        with Session(self._engine) as session, session.begin():
            session.get(ThreadRow, thread_key, with_for_update=True)
            existing = session.get(LinkRow, incident_id)
            if existing is not None:
                return _link(existing), False
            same_service = session.scalars(
                select(LinkRow.incident_id).where(
                    LinkRow.thread_key == thread_key,
                    LinkRow.service == service,
                    LinkRow.namespace == namespace,
                )
            ).all()
            values = {
                "incident_id": incident_id,
                "thread_key": thread_key,
                "service": service,
                "namespace": namespace,
                "lead": (
                    not any(is_open(other) for other in same_service) if lead is None else lead
                ),
                "received_at": received_at,
            }
            created = insert_new(session, LinkRow, values, key=["incident_id"])
            row = session.get(LinkRow, incident_id, populate_existing=True)
            assert row is not None
            return _link(row), created

    @transaction
    def link_of(self, incident_id: str) -> ThreadLink | None:
        with Session(self._engine) as session:
            row = session.get(LinkRow, incident_id)
            return _link(row) if row else None

    @transaction
    def links(self, thread_key: str) -> list[ThreadLink]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(LinkRow)
                .where(LinkRow.thread_key == thread_key)
                .order_by(LinkRow.received_at)
            )
            return [_link(r) for r in rows]

    def leader_of(self, incident_id: str) -> ThreadLink | None:
        """The incident whose diagnosis covers this one (itself when it leads): the latest
        leader of its service in the thread that came before it."""
        link = self.link_of(incident_id)
        if link is None or link.lead:
            return link
        leaders = [
            other
            for other in self.links(link.thread_key)
            if other.lead
            and (other.service, other.namespace) == (link.service, link.namespace)
            and other.received_at <= link.received_at
        ]
        return leaders[-1] if leaders else None

    @transaction
    def awaiting_investigation(self, now: float | None = None) -> list[ThreadLink]:
        """Leading incidents not investigated yet, not dead-lettered, with their lease holder
        (if any): a stop or a dead replica left them, or one is running them. ``now`` keeps only
        those whose ``lease_until`` is past by that clock - meaningful only when the clock is the
        one that wrote them (one process); replicas judge with a
        :class:`~bot.slack.lease.LeaseWatch` instead."""
        fresh: list[ColumnElement[bool]] = [] if now is None else [LinkRow.lease_until <= now]
        with Session(self._engine) as session:
            rows = session.scalars(
                select(LinkRow)
                .where(
                    LinkRow.lead.is_(True),
                    LinkRow.investigated.is_(False),
                    LinkRow.dead.is_(False),
                    *fresh,
                )
                .order_by(LinkRow.received_at)
            )
            return [_link(r) for r in rows]

    # --- the investigation's lease -------------------------------------------------------------
    @transaction
    def claim(
        self,
        incident_id: str,
        owner: str,
        *,
        now: float,
        seconds: float,
        max_attempts: int,
        expired: Callable[[str, float], bool] | None = None,
    ) -> Claim:
        """Take the lease on an incident's investigation for ``seconds``, as try number
        ``attempts + 1``, unless another holder's lease is still running. A try that never
        finished (its process was killed, ran out of memory) counts: after ``max_attempts`` of
        them the investigation is dead-lettered instead. ``owner`` is unique to this try, so a
        claim whose commit was retried finds itself. ``expired(holder, lease_until)`` judges
        whether another holder's lease ran out (asked holding the row lock); without it,
        ``lease_until`` is compared with ``now``, which is right only when one clock wrote both."""
        with Session(self._engine) as session, session.begin():
            row = session.get(LinkRow, incident_id, with_for_update=True)
            if row is None or not row.lead or row.investigated:
                return Claim.DONE
            if row.dead:
                return Claim.DEAD
            if row.lease_owner == owner:
                return Claim.MINE
            held = bool(row.lease_owner) and (
                not expired(row.lease_owner, row.lease_until)
                if expired is not None
                else row.lease_until > now
            )
            if held:
                return Claim.BUSY
            if row.attempts >= max_attempts:
                row.dead, row.lease_owner, row.lease_until = True, "", 0.0
                return Claim.DEAD_NOW
            row.attempts += 1
            row.lease_owner, row.lease_until = owner, now + seconds
            return Claim.MINE

    @transaction
    def renew(self, incident_id: str, owner: str, until: float) -> bool:
        """Extend ``owner``'s lease; False when it is no longer theirs. ``lease_until`` always
        changes (even when the holder's clock stepped back to the same instant): other replicas
        see the lease alive by that change alone."""
        changed = case((LinkRow.lease_until == until, until + 0.001), else_=until)
        with Session(self._engine) as session, session.begin():
            renewed = session.execute(
                update(LinkRow)
                .where(LinkRow.incident_id == incident_id, LinkRow.lease_owner == owner)
                .values(lease_until=changed)
            )
            return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]

    @transaction
    def release(self, incident_id: str, owner: str) -> None:
        """Give the lease back unfinished (the service is stopping): the try does not count, and
        any replica may take the investigation at once."""
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(LinkRow)
                .where(LinkRow.incident_id == incident_id, LinkRow.lease_owner == owner)
                .values(lease_owner="", lease_until=0.0, attempts=LinkRow.attempts - 1)
            )

    @transaction
    def save_diagnosis(
        self,
        incident_id: str,
        text: str,
        head: list[Block],
        proposal_ids: list[str],
        owner: str | None = None,
        then: Callable[[Session], None] | None = None,
    ) -> bool:
        """The investigation's result, kept if ``owner`` (when given) still holds the lease and
        nobody saved one before; True when kept. ``then`` runs in the same transaction when it is
        kept - the outbox post of the result, so a process killed right after the save still has
        it posted, and nobody sees it investigated before its post is queued."""
        fenced: list[ColumnElement[bool]] = [LinkRow.investigated.is_(False)]
        if owner is not None:
            fenced.append(or_(LinkRow.lease_owner == owner, LinkRow.lease_owner == ""))
        with Session(self._engine) as session, session.begin():
            saved = session.execute(
                update(LinkRow)
                .where(LinkRow.incident_id == incident_id, *fenced)
                .values(
                    investigated=True,
                    diagnosis_text=text,
                    diagnosis_head=json.dumps(head),
                    proposal_ids=json.dumps(proposal_ids),
                    lease_owner="",
                    lease_until=0.0,
                )
            )
            kept = bool(saved.rowcount == 1)  # type: ignore[attr-defined]
            if kept and then is not None:
                then(session)
            return kept

    def set_after(self, incident_id: str, after: str) -> None:
        self._update(incident_id, after=after)

    @transaction
    def _update(self, incident_id: str, /, **values: Any) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(LinkRow).where(LinkRow.incident_id == incident_id).values(**values)
            )

    @transaction
    def in_channel(self, channel: str) -> list[ThreadLink]:
        """Incidents with a thread in ``channel``, newest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(LinkRow)
                .join(ThreadRow, ThreadRow.key == LinkRow.thread_key)
                .where(ThreadRow.channel == channel)
                .order_by(LinkRow.received_at.desc())
            )
            return [_link(r) for r in rows]

    # --- timeline ------------------------------------------------------------------------------
    @transaction
    def record(self, incident_id: str, kind: str, text: str, at: float) -> None:
        with Session(self._engine) as session, session.begin():
            session.add(EventRow(incident_id=incident_id, at=at, kind=kind, text=text))

    @transaction
    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(EventRow).where(EventRow.incident_id == incident_id).order_by(EventRow.seq)
            )
            return [record_from(TimelineEntry, r) for r in rows]

    # --- Slack deliveries handled once ---------------------------------------------------------
    @transaction
    def first_time(self, key: str, now: float) -> bool:
        """True the first time ``key`` (a Slack event id, a message ts) is seen, ever."""
        try:
            with Session(self._engine) as session, session.begin():
                session.add(SeenRow(key=key, at=now))
        except IntegrityError:
            return False
        return True


def _thread(row: ThreadRow) -> ThreadRecord:
    view = RootView.model_validate_json(row.view) if row.view else None
    return ThreadRecord(row.key, row.channel, row.external, view)


def _link(row: LinkRow) -> ThreadLink:
    return record_from(
        ThreadLink,
        row,
        diagnosis_head=json.loads(row.diagnosis_head),
        proposal_ids=json.loads(row.proposal_ids),
        attempts=row.attempts or 0,
        dead=bool(row.dead),
    )
