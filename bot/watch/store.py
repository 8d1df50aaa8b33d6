"""What the watch remembers, in the state database shared by the replicas: the services added
with `/medic watch add`, the heads-ups it posted (open while their finding keeps being found,
and which alert group took over each thread), and which replica ran each scheduled pass.

A pass is claimed by inserting its slot (``INSERT .. ON CONFLICT DO NOTHING``): of several
replicas, exactly one runs a given pass, so none posts twice. Slots are read off the database's
clock, not the claiming replica's, so replicas whose clocks disagree name the same pass alike and
one replica dying leaves no gap. The tables are created and changed by the migrations in
``tools/schema/migrations`` (0003)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Engine,
    Float,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.watch.findings import Target
from tools.schema import Base, read_database_now
from tools.transactions import transaction
from tools.upsert import insert_new


class WatchTargetRow(Base):
    __tablename__ = "watch_targets"

    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)
    service: Mapped[str] = mapped_column(String(63), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[float] = mapped_column(Float)


class HeadsUpRow(Base):
    """One finding of one service, in a heads-up thread: the thread's first finding opened it
    (``opens``), later ones were replies in it."""

    __tablename__ = "watch_headsups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_key: Mapped[str] = mapped_column(String(255), index=True)
    opens: Mapped[bool] = mapped_column(Boolean)
    namespace: Mapped[str] = mapped_column(String(63), index=True)
    service: Mapped[str] = mapped_column(String(63), index=True)
    finding: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(64), index=True)
    opened_at: Mapped[float] = mapped_column(Float)
    seen_at: Mapped[float] = mapped_column(Float)
    alert_key: Mapped[str | None] = mapped_column(Text, nullable=True, index=True)


PASSES_KEPT = 86400.0  # seconds a pass's claim is kept: a pass a minute is 1,440 rows, not a year's


class WatchPassRow(Base):
    __tablename__ = "watch_passes"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)


def pass_slot(now: float, interval: float) -> int:
    """The scheduled pass ``now`` falls in, named by its start in whole seconds rather than its
    index: slots of different intervals then compare by time. By index, raising
    ``watch.interval_seconds`` (60 -> 300) made every new slot number smaller than the last one
    claimed, and a slot earlier than one already claimed is never run (``WatchStore.claim_pass``):
    the watch stopped for good, silently."""
    return int(now // interval * interval)


@dataclass(frozen=True)
class PassClaim:
    """The answer to a claim: the slot that was due by the database's clock, whether this
    replica runs it, and the database's time of the claim (to wake at the next slot's start)."""

    slot: int
    won: bool
    at: float

    def until_next(self, interval: float) -> float:
        """Seconds from the claim to the start of the next slot, by the database's clock."""
        return self.slot + interval - self.at


@dataclass(frozen=True)
class HeadsUp:
    thread_key: str
    target: Target
    finding: str
    channel: str
    opened_at: float
    seen_at: float
    alert_key: str | None


def _headsup(row: HeadsUpRow) -> HeadsUp:
    return HeadsUp(
        row.thread_key,
        Target(row.namespace, row.service),
        row.finding,
        row.channel,
        row.opened_at,
        row.seen_at,
        row.alert_key,
    )


class WatchStore:
    def __init__(
        self,
        engine: Engine,
        open_seconds: float,
        clock: Callable[[Session], float] = read_database_now,
    ) -> None:
        """``open_seconds``: a heads-up stays open this long after a pass last found it;
        ``clock``: the time slots are read from, in the claim's transaction (the database's)."""
        self._engine = engine
        self._open = open_seconds
        self._clock = clock

    # --- services added from Slack ---------------------------------------------------------------
    @transaction
    def targets(self) -> list[Target]:
        with Session(self._engine) as session:
            rows = session.scalars(select(WatchTargetRow)).all()
            return sorted(Target(r.namespace, r.service) for r in rows)

    @transaction
    def add(self, target: Target, who: str, now: float) -> bool:
        """True when ``target`` was not watched from Slack before."""
        with Session(self._engine) as session, session.begin():
            values = {
                "namespace": target.namespace,
                "service": target.service,
                "added_by": who[:255],
                "added_at": now,
            }
            return insert_new(session, WatchTargetRow, values, key=["namespace", "service"])

    @transaction
    def remove(self, target: Target) -> bool:
        with Session(self._engine) as session, session.begin():
            row = session.get(WatchTargetRow, (target.namespace, target.service))
            if row is None:
                return False
            session.delete(row)
            return True

    # --- scheduled passes ------------------------------------------------------------------------
    @transaction
    def claim_pass(self, interval: float, owner: str) -> PassClaim:
        """Claim the pass due now by the database's clock (a slot of ``interval`` seconds,
        :func:`pass_slot`); ``won`` for the one replica that runs it. By each replica's own
        clock, when the replica whose clock ran ahead died, no pass ran until the others'
        clocks reached its last slot - a gap as long as the skew. A slot earlier than one
        already claimed is not run again (the database's clock was set back)."""
        with Session(self._engine) as session, session.begin():
            now = self._clock(session)
            slot = pass_slot(now, interval)
            later = select(WatchPassRow.slot).where(WatchPassRow.slot > slot).limit(1)
            if session.scalar(later) is not None:
                return PassClaim(slot, False, now)
            values = {"slot": slot, "owner": owner[:64], "at": now}
            won = insert_new(session, WatchPassRow, values, key=["slot"])
            if won:  # a claim only matters while replicas may race for its slot
                session.execute(delete(WatchPassRow).where(WatchPassRow.at < now - PASSES_KEPT))
            return PassClaim(slot, won, now)

    # --- heads-ups -------------------------------------------------------------------------------
    @transaction
    def open_for(self, target: Target, now: float) -> list[HeadsUp]:
        """The open findings of a service's heads-up threads, newest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(HeadsUpRow)
                .where(
                    HeadsUpRow.namespace == target.namespace,
                    HeadsUpRow.service == target.service,
                    HeadsUpRow.seen_at >= now - self._open,
                )
                .order_by(HeadsUpRow.opened_at.desc(), HeadsUpRow.id.desc())
            ).all()
            return [_headsup(r) for r in rows]

    @transaction
    def seen(self, thread_key: str, now: float) -> None:
        """A pass found something of this heads-up's service again: the thread stays open."""
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(HeadsUpRow).where(HeadsUpRow.thread_key == thread_key).values(seen_at=now)
            )

    @transaction
    def posted_since(self, channel: str, since: float) -> int:
        with Session(self._engine) as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(HeadsUpRow)
                    .where(
                        HeadsUpRow.channel == channel,
                        HeadsUpRow.opened_at >= since,
                        HeadsUpRow.opens.is_(True),
                    )
                )
                or 0
            )

    @transaction
    def record(
        self,
        thread_key: str,
        target: Target,
        finding: str,
        channel: str,
        now: float,
        *,
        opens: bool,
    ) -> None:
        """A finding posted in heads-up thread ``thread_key`` (``opens``: as its root)."""
        with Session(self._engine) as session, session.begin():
            values = {
                "thread_key": thread_key,
                "opens": opens,
                "namespace": target.namespace,
                "service": target.service,
                "finding": finding[:255],
                "channel": channel,
                "opened_at": now,
                "seen_at": now,
                "alert_key": None,
            }
            session.add(HeadsUpRow(**values))

    @transaction
    def headsups(self, now: float) -> list[HeadsUp]:
        """The open heads-ups, newest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(HeadsUpRow)
                .where(HeadsUpRow.seen_at >= now - self._open)
                .order_by(HeadsUpRow.opened_at.desc(), HeadsUpRow.id.desc())
            ).all()
            return [_headsup(r) for r in rows]

    @transaction
    def thread_for_alert(self, alert_key: str, targets: list[Target], now: float) -> str | None:
        """The heads-up thread an alert group joins: the one it joined before, else the most
        recent open heads-up of one of its services (taken for this group from then on)."""
        with Session(self._engine) as session, session.begin():
            taken = session.scalars(
                select(HeadsUpRow.thread_key).where(HeadsUpRow.alert_key == alert_key).limit(1)
            ).first()
            if taken is not None:
                return taken
            for target in targets:
                row = session.scalars(
                    select(HeadsUpRow)
                    .where(
                        HeadsUpRow.namespace == target.namespace,
                        HeadsUpRow.service == target.service,
                        HeadsUpRow.seen_at >= now - self._open,
                        HeadsUpRow.alert_key.is_(None),
                    )
                    .order_by(HeadsUpRow.opened_at.desc(), HeadsUpRow.id.desc())
                    .limit(1)
                ).first()
                if row is None:
                    continue
                # Two replicas taking in the same alert at once: the update decides.
                done = session.execute(
                    update(HeadsUpRow)
                    .where(HeadsUpRow.thread_key == row.thread_key, HeadsUpRow.alert_key.is_(None))
                    .values(alert_key=alert_key)
                )
                if getattr(done, "rowcount", 0) >= 1:
                    return row.thread_key
                again = session.scalars(
                    select(HeadsUpRow.thread_key).where(HeadsUpRow.alert_key == alert_key)
                ).first()
                if again is not None:
                    return again
            return None
