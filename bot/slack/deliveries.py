"""Deliveries a receiver already took in, kept in the state database (``receiver_deliveries``),
so a replayed signed delivery - PagerDuty retrying, an attacker resending a captured request - is
taken once across every replica and every restart, not once per process.

Only a stable hash of the sender's event id is kept (the id is the sender's text: any length,
any characters). The table is bounded in age (:data:`MAX_AGE_SECONDS`: a replay older than that
is taken again, and reaches the incident store, which attaches a firing copy to an open incident)
and in rows (:data:`MAX_ROWS`, the oldest go first). The state database being away never costs an
alert: the delivery is then taken (at worst twice) and the failure logged.

The inbox the delivery is stored in is another database (each replica's own), so the claim and
the store cannot be one transaction. A claim is therefore *pending* until the delivery is stored:
a copy meanwhile is answered "try again" (503), never "delivered before", and a claim still
pending after :data:`LEASE_SECONDS` belongs to a request that died (kill -9) and is taken over -
so a crash between the two costs a retry, not the alert.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from sqlalchemy import Boolean, Float, String, delete, select, true, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.receivers.pagerduty import Claim
from tools.schema import Base
from tools.upsert import insert_new

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = (
    7 * 24 * 3600.0
)  # PagerDuty retries for minutes; a week covers any replay worth it
MAX_ROWS = 100_000
LEASE_SECONDS = 30.0  # storing takes milliseconds: a claim pending this long is a dead request's


class DeliveryRow(Base):
    __tablename__ = "receiver_deliveries"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    # False from the claim until the delivery is in the inbox (rows before 0013 were stored).
    stored: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


def delivery_key(event_id: str) -> str:
    """The stored identity of a delivery: SHA-256 of the sender's id, whatever its length."""
    return hashlib.sha256(event_id.encode("utf-8", errors="surrogatepass")).hexdigest()


class SharedDeliveries:
    """The replay ledger of :class:`bot.slack.receivers.ReceiverWebhooks` on the state database
    (the in-memory one is :class:`bot.receivers.SeenEvents`)."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_age: float = MAX_AGE_SECONDS,
        max_rows: int = MAX_ROWS,
        lease: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._max_age = max_age
        self._max_rows = max_rows
        self._lease = lease
        self._clock = clock

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was taken in within the age bound (False when it cannot be told:
        a delivery taken twice is settled by the incident store, one refused is lost)."""
        if not event_id:
            return False
        try:
            with Session(self._engine) as session:
                at = session.scalar(
                    select(DeliveryRow.at).where(DeliveryRow.key == delivery_key(event_id))
                )
        except SQLAlchemyError as exc:
            log.warning("replay check skipped, the state database failed: %s", _line(exc))
            return False
        return at is not None and at >= self._clock() - self._max_age

    def remember(self, event_id: str) -> None:
        """Record ``event_id`` once its delivery is stored, and drop what is past the bounds."""
        if not event_id:
            return
        now = self._clock()
        try:
            with Session(self._engine) as session, session.begin():
                key = delivery_key(event_id)
                if not insert_new(session, DeliveryRow, {"key": key, "at": now}, key=["key"]):
                    session.execute(
                        update(DeliveryRow).where(DeliveryRow.key == key).values(at=now)
                    )
                self._prune(session, now)
        except SQLAlchemyError as exc:
            log.warning("delivery not recorded against replays: %s", _line(exc))

    def claim(self, event_id: str) -> Claim:
        """Record ``event_id`` as pending and say whether this replica's call was the first. The
        check is the insert (``ON CONFLICT DO NOTHING`` on the key), or the update of a row past
        the age bound or of a pending one past its lease, so two copies of a delivery reaching
        two replicas at the same instant are taken once - not both after each saw it missing.
        TAKEN when it cannot be told (the state database away): the incident store then settles
        a copy taken twice."""
        if not event_id:
            return Claim.TAKEN
        now = self._clock()
        key = delivery_key(event_id)
        row = {"key": key, "at": now, "stored": False}
        try:
            with Session(self._engine) as session, session.begin():
                if insert_new(session, DeliveryRow, row, key=["key"]):
                    self._prune(session, now)
                    return Claim.TAKEN
                taken_over = session.execute(  # too old to count, or left by a dead request
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.key == key,
                        (DeliveryRow.at < now - self._max_age)
                        | (~DeliveryRow.stored & (DeliveryRow.at < now - self._lease)),
                    )
                    .values(at=now, stored=False)
                )
                if taken_over.rowcount == 1:  # type: ignore[attr-defined]
                    return Claim.TAKEN
                stored = session.scalar(select(DeliveryRow.stored).where(DeliveryRow.key == key))
                if stored is None:  # pruned in between: taken (a copy, if any, settles later)
                    return Claim.TAKEN
                return Claim.REPLAYED if stored else Claim.PENDING
        except SQLAlchemyError as exc:
            log.warning("replay check skipped, the state database failed: %s", _line(exc))
            return Claim.TAKEN

    def stored(self, event_id: str) -> None:
        """The claimed delivery is in the inbox: copies from now on are replays. Not recorded
        (the database away) leaves the claim pending: a copy gets 503 until the lease runs out
        and is then taken, at worst twice, which the incident store settles."""
        if not event_id:
            return
        try:
            with Session(self._engine) as session, session.begin():
                session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.key == delivery_key(event_id))
                    .values(stored=True)
                )
        except SQLAlchemyError as exc:
            log.warning("a stored delivery's claim stayed pending: %s", _line(exc))

    def release(self, event_id: str) -> None:
        """Drop a claim whose delivery could not be stored, so PagerDuty's retry is taken."""
        if not event_id:
            return
        try:
            with Session(self._engine) as session, session.begin():
                session.execute(
                    delete(DeliveryRow).where(DeliveryRow.key == delivery_key(event_id))
                )
        except SQLAlchemyError as exc:
            log.warning("a failed delivery's claim was kept: %s", _line(exc))

    def _prune(self, session: Session, now: float) -> None:
        """Drop the rows past the age bound and the oldest beyond the row bound."""
        session.execute(delete(DeliveryRow).where(DeliveryRow.at < now - self._max_age))
        oldest_kept = session.scalar(
            select(DeliveryRow.at)
            .order_by(DeliveryRow.at.desc())
            .offset(self._max_rows - 1)
            .limit(1)
        )
        if oldest_kept is not None:
            session.execute(delete(DeliveryRow).where(DeliveryRow.at < oldest_kept))


def _line(exc: SQLAlchemyError) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["no detail"])[0][:300]
