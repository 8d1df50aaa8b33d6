"""The Slack outbox: every message Medic posts, updates or uploads is written here first and
delivered by :class:`bot.slack.delivery.SlackDelivery`, so nothing is lost while Slack is down.

Items of one thread are delivered in order (a reply needs its root's ``ts``); an update that is
still waiting replaces the content of the item it would update, so a burst of notifications for one
alert group costs one Slack call, not one per notification.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Boolean, Engine, Float, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.slack.mrkdwn import Mrkdwn
from tools.schema import Base, record_from
from tools.transactions import transaction
from tools.upsert import insert_new

Op = Literal["post", "update", "upload"]
PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
ROOT = "root"


class _ItemRow(Base):
    __tablename__ = "slack_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_key: Mapped[str] = mapped_column(Text, index=True)
    op: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(128), default="")
    channel: Mapped[str] = mapped_column(String(64))
    in_thread: Mapped[bool] = mapped_column(Boolean, default=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text, default="")


class _MessageRow(Base):
    __tablename__ = "slack_messages"

    thread_key: Mapped[str] = mapped_column(Text, primary_key=True)
    ref: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))


@dataclass(frozen=True)
class OutboxItem:
    id: int
    thread_key: str
    op: Op
    ref: str
    channel: str
    in_thread: bool
    payload: dict[str, Any]
    attempts: int
    created_at: float

    def file_content(self) -> bytes:
        return base64.b64decode(self.payload["content_b64"])


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._requeue_interrupted()

    @transaction
    def _requeue_interrupted(self) -> None:
        """Items caught mid-delivery by a stop are sent again (at least once, never lost)."""
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(_ItemRow).where(_ItemRow.status == SENDING).values(status=PENDING)
            )

    # --- writing -------------------------------------------------------------------------------
    def post(
        self,
        thread_key: str,
        channel: str,
        payload: dict[str, Any],
        *,
        now: float,
        ref: str = "",
        in_thread: bool = True,
        session: Session | None = None,
    ) -> None:
        """A new message: the thread's root (``in_thread=False``) or a reply in the thread; queued
        in ``session``'s transaction when given (see :meth:`ThreadStore.save_diagnosis`)."""
        self._add(thread_key, "post", ref, channel, in_thread, payload, now, session)

    @transaction
    def update(
        self, thread_key: str, ref: str, channel: str, payload: dict[str, Any], *, now: float
    ) -> None:
        """Replace the content of message ``ref``; merged into a waiting post or update of it."""
        data = json.dumps(payload)
        with Session(self._engine) as session, session.begin():
            waiting = session.scalars(
                select(_ItemRow.id)
                .where(
                    _ItemRow.thread_key == thread_key,
                    _ItemRow.ref == ref,
                    _ItemRow.op.in_(("post", "update")),
                    _ItemRow.status == PENDING,
                )
                .order_by(_ItemRow.id.desc())
            ).first()
            if waiting is not None:
                merged = session.execute(
                    update(_ItemRow)
                    .where(_ItemRow.id == waiting, _ItemRow.status == PENDING)
                    .values(payload=data)
                )
                if merged.rowcount == 1:  # type: ignore[attr-defined]
                    return
            session.add(self._row(thread_key, "update", ref, channel, True, data, now))

    def upload(
        self,
        thread_key: str,
        channel: str,
        *,
        filename: str,
        title: str,
        content: bytes,
        comment: Mrkdwn,
        now: float,
        session: Session | None = None,
    ) -> None:
        """A file for the thread; ``title`` is shown as plain text, ``comment`` as mrkdwn."""
        payload = {
            "filename": filename,
            "title": title,
            "initial_comment": comment,
            "content_b64": base64.b64encode(content).decode(),
        }
        self._add(thread_key, "upload", "", channel, True, payload, now, session)

    def _add(
        self,
        thread_key: str,
        op: Op,
        ref: str,
        channel: str,
        in_thread: bool,
        payload: dict[str, Any],
        now: float,
        session: Session | None,
    ) -> None:
        def row() -> _ItemRow:
            return self._row(thread_key, op, ref, channel, in_thread, json.dumps(payload), now)

        if session is not None:  # the caller's transaction (and its retries) decide
            session.add(row())
        else:
            self._add_alone(row)

    @transaction
    def _add_alone(self, row: Callable[[], _ItemRow]) -> None:
        with Session(self._engine) as session, session.begin():
            session.add(row())

    @staticmethod
    def _row(
        thread_key: str, op: Op, ref: str, channel: str, in_thread: bool, data: str, now: float
    ) -> _ItemRow:
        return _ItemRow(
            thread_key=thread_key,
            op=op,
            ref=ref,
            channel=channel,
            in_thread=in_thread,
            payload=data,
            status=PENDING,
            attempts=0,
            next_at=now,
            created_at=now,
        )

    # --- posted messages -----------------------------------------------------------------------
    @transaction
    def remember_message(self, thread_key: str, ref: str, channel: str, ts: str) -> None:
        # Insert or replace, atomically: two deliveries (threads, replicas) remembering the same
        # message at once must not collide on its key as a read-then-insert merge does.
        values = {"thread_key": thread_key, "ref": ref, "channel": channel, "ts": ts}
        with Session(self._engine) as session, session.begin():
            if not insert_new(session, _MessageRow, values, key=["thread_key", "ref"]):
                session.execute(
                    update(_MessageRow)
                    .where(_MessageRow.thread_key == thread_key, _MessageRow.ref == ref)
                    .values(channel=channel, ts=ts)
                )

    @transaction
    def message(self, thread_key: str, ref: str) -> PostedMessage | None:
        with Session(self._engine) as session:
            row = session.get(_MessageRow, (thread_key, ref))
            return PostedMessage(row.channel, row.ts) if row else None

    @transaction
    def posting(self, thread_key: str, ref: str) -> bool:
        """Whether a post of message ``ref`` is still on its way: waiting, or being sent (by this
        process or, with several replicas on one database, by another)."""
        with Session(self._engine) as session:
            found = session.scalars(
                select(_ItemRow.id).where(
                    _ItemRow.thread_key == thread_key,
                    _ItemRow.ref == ref,
                    _ItemRow.op == "post",
                    _ItemRow.status.in_((PENDING, SENDING)),
                )
            ).first()
            return found is not None

    @transaction
    def thread_of_message(self, channel: str, ts: str) -> str | None:
        with Session(self._engine) as session:
            return session.scalars(
                select(_MessageRow.thread_key).where(
                    _MessageRow.channel == channel, _MessageRow.ts == ts
                )
            ).first()

    # --- delivering ----------------------------------------------------------------------------
    @transaction
    def due(self, now: float, limit: int = 100) -> list[OutboxItem]:
        """The oldest waiting item of each thread, if its time has come."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_ItemRow).where(_ItemRow.status == PENDING).order_by(_ItemRow.id)
            ).all()
        heads: dict[str, _ItemRow] = {}
        for row in rows:
            heads.setdefault(row.thread_key, row)
        return [_item(r) for r in heads.values() if r.next_at <= now][:limit]

    @transaction
    def next_due(self) -> float | None:
        with Session(self._engine) as session:
            value = session.scalar(
                select(func.min(_ItemRow.next_at)).where(_ItemRow.status == PENDING)
            )
            return float(value) if value is not None else None

    @transaction
    def claim(self, item_id: int) -> OutboxItem | None:
        """Mark an item as being sent; its content no longer changes. None if it was taken."""
        with Session(self._engine) as session, session.begin():
            moved = session.execute(
                update(_ItemRow)
                .where(_ItemRow.id == item_id, _ItemRow.status == PENDING)
                .values(status=SENDING, attempts=_ItemRow.attempts + 1)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = session.get(_ItemRow, item_id)
            assert row is not None
            return _item(row)

    def sent(self, item_id: int) -> None:
        self._finish(item_id, SENT, "")

    def dead(self, item_id: int, error: str) -> None:
        self._finish(item_id, DEAD, error)

    @transaction
    def retry_at(
        self, item_id: int, at: float, error: str, payload: dict[str, Any] | None = None
    ) -> None:
        values: dict[str, Any] = {"status": PENDING, "next_at": at, "error": error}
        if payload is not None:
            values["payload"] = json.dumps(payload)
        with Session(self._engine) as session, session.begin():
            session.execute(update(_ItemRow).where(_ItemRow.id == item_id).values(**values))

    @transaction
    def _finish(self, item_id: int, status: str, error: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(_ItemRow).where(_ItemRow.id == item_id).values(status=status, error=error)
            )

    @transaction
    def counts(self) -> dict[str, int]:
        with Session(self._engine) as session:
            rows = session.execute(
                select(_ItemRow.status, func.count()).group_by(_ItemRow.status)
            ).all()
            return {str(status): int(n) for status, n in rows}

    @transaction
    def dead_items(self) -> list[tuple[OutboxItem, str]]:
        with Session(self._engine) as session:
            rows = session.scalars(select(_ItemRow).where(_ItemRow.status == DEAD)).all()
            return [(_item(r), r.error) for r in rows]


def _item(row: _ItemRow) -> OutboxItem:
    return record_from(OutboxItem, row, payload=json.loads(row.payload))
