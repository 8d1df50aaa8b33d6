"""What the Slack side remembers, persisted next to the incidents: one thread per alert group,
which incidents live in which thread (and which one leads the investigation of its service), the
diagnosis shown in the thread, each incident's timeline, and Slack event ids already handled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Engine, Float, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from bot.slack.blocks import RootView
from bot.slack.limits import Block
from tools.transactions import transaction


class _Base(DeclarativeBase):
    pass


class _ThreadRow(_Base):
    __tablename__ = "slack_threads"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    view: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class _LinkRow(_Base):
    __tablename__ = "slack_thread_incidents"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_key: Mapped[str] = mapped_column(Text, index=True)
    service: Mapped[str] = mapped_column(String(253))
    namespace: Mapped[str] = mapped_column(String(253))
    lead: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[float] = mapped_column(Float)
    investigated: Mapped[bool] = mapped_column(Boolean, default=False)
    diagnosis_text: Mapped[str] = mapped_column(Text, default="")
    diagnosis_head: Mapped[str] = mapped_column(Text, default="[]")
    proposal_ids: Mapped[str] = mapped_column(Text, default="[]")
    after: Mapped[str] = mapped_column(Text, default="")


class _EventRow(_Base):
    __tablename__ = "slack_timeline"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)


class _SeenRow(_Base):
    __tablename__ = "slack_seen"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    at: Mapped[float] = mapped_column(Float)


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


@dataclass(frozen=True)
class TimelineEntry:
    at: float
    kind: str
    text: str


class ThreadStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        _Base.metadata.create_all(engine)

    # --- threads -------------------------------------------------------------------------------
    @transaction
    def thread(self, key: str) -> ThreadRecord | None:
        with Session(self._engine) as session:
            row = session.get(_ThreadRow, key)
            return _thread(row) if row else None

    @transaction
    def open_thread(
        self, key: str, channel: str, view: RootView | None, *, external: bool, now: float
    ) -> tuple[ThreadRecord, bool]:
        """The thread for ``key``, created if new (True) - else its root view is replaced."""
        data = view.model_dump_json() if view else ""
        with Session(self._engine) as session, session.begin():
            row = session.get(_ThreadRow, key)
            if row is not None:
                if view is not None:
                    row.view, row.updated_at = data, now
                return _thread(row), False
            row = _ThreadRow(
                key=key,
                channel=channel,
                external=external,
                view=data,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return _thread(row), True

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
    ) -> ThreadLink:
        """Put an incident in a thread. The first incident of a service in a thread leads: it is
        the one investigated; later ones of the same service join its diagnosis."""
        with Session(self._engine) as session, session.begin():
            existing = session.get(_LinkRow, incident_id)
            if existing is not None:
                return _link(existing)
            leader = session.scalars(
                select(_LinkRow).where(
                    _LinkRow.thread_key == thread_key,
                    _LinkRow.service == service,
                    _LinkRow.namespace == namespace,
                    _LinkRow.lead.is_(True),
                )
            ).first()
            row = _LinkRow(
                incident_id=incident_id,
                thread_key=thread_key,
                service=service,
                namespace=namespace,
                lead=leader is None,
                received_at=received_at,
            )
            session.add(row)
            session.flush()
            return _link(row)

    @transaction
    def link_of(self, incident_id: str) -> ThreadLink | None:
        with Session(self._engine) as session:
            row = session.get(_LinkRow, incident_id)
            return _link(row) if row else None

    @transaction
    def links(self, thread_key: str) -> list[ThreadLink]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_LinkRow)
                .where(_LinkRow.thread_key == thread_key)
                .order_by(_LinkRow.received_at)
            )
            return [_link(r) for r in rows]

    def leader_of(self, incident_id: str) -> ThreadLink | None:
        """The incident whose diagnosis covers this one (itself when it leads)."""
        link = self.link_of(incident_id)
        if link is None or link.lead:
            return link
        return next(
            (
                other
                for other in self.links(link.thread_key)
                if other.lead and (other.service, other.namespace) == (link.service, link.namespace)
            ),
            None,
        )

    @transaction
    def awaiting_investigation(self) -> list[ThreadLink]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_LinkRow)
                .where(_LinkRow.lead.is_(True), _LinkRow.investigated.is_(False))
                .order_by(_LinkRow.received_at)
            )
            return [_link(r) for r in rows]

    def save_diagnosis(
        self, incident_id: str, text: str, head: list[Block], proposal_ids: list[str]
    ) -> None:
        self._update(
            incident_id,
            investigated=True,
            diagnosis_text=text,
            diagnosis_head=json.dumps(head),
            proposal_ids=json.dumps(proposal_ids),
        )

    def set_after(self, incident_id: str, after: str) -> None:
        self._update(incident_id, after=after)

    @transaction
    def _update(self, incident_id: str, /, **values: Any) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(_LinkRow).where(_LinkRow.incident_id == incident_id).values(**values)
            )

    @transaction
    def in_channel(self, channel: str) -> list[ThreadLink]:
        """Incidents with a thread in ``channel``, newest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_LinkRow)
                .join(_ThreadRow, _ThreadRow.key == _LinkRow.thread_key)
                .where(_ThreadRow.channel == channel)
                .order_by(_LinkRow.received_at.desc())
            )
            return [_link(r) for r in rows]

    # --- timeline ------------------------------------------------------------------------------
    @transaction
    def record(self, incident_id: str, kind: str, text: str, at: float) -> None:
        with Session(self._engine) as session, session.begin():
            session.add(_EventRow(incident_id=incident_id, at=at, kind=kind, text=text))

    @transaction
    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_EventRow)
                .where(_EventRow.incident_id == incident_id)
                .order_by(_EventRow.seq)
            )
            return [TimelineEntry(r.at, r.kind, r.text) for r in rows]

    # --- Slack deliveries handled once ---------------------------------------------------------
    @transaction
    def first_time(self, key: str, now: float) -> bool:
        """True the first time ``key`` (a Slack event id, a message ts) is seen, ever."""
        try:
            with Session(self._engine) as session, session.begin():
                session.add(_SeenRow(key=key[:255], at=now))
        except IntegrityError:
            return False
        return True


def _thread(row: _ThreadRow) -> ThreadRecord:
    view = RootView.model_validate_json(row.view) if row.view else None
    return ThreadRecord(row.key, row.channel, row.external, view)


def _link(row: _LinkRow) -> ThreadLink:
    return ThreadLink(
        incident_id=row.incident_id,
        thread_key=row.thread_key,
        service=row.service,
        namespace=row.namespace,
        lead=row.lead,
        received_at=row.received_at,
        investigated=row.investigated,
        diagnosis_text=row.diagnosis_text,
        diagnosis_head=json.loads(row.diagnosis_head),
        proposal_ids=json.loads(row.proposal_ids),
        after=row.after,
    )
