"""The alert inbox: a webhook notification is validated, written here and acknowledged; one worker
then takes notifications in arrival order into the incident threads.

Answering Alertmanager costs one insert, whatever else the bot is doing (investigations hold the
CPU), and a notification acknowledged is never lost: a stop in between resumes from the inbox. The
inbox is a SQLite file of its own, written by the webhook (under `medic serve`, in the front
process) and emptied by the bot's worker; each write is one statement committed on its own, so
neither side holds the file's lock while it waits for the CPU. Like every Medic database the file
is migrated to the one schema (:mod:`tools.schema`) when its engine is made; only
``alert_inbox`` is used in it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Float, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.database import sqlite_engine
from bot.errors import MedicError
from bot.slack.worker import Worker
from tools.errors import StateUnavailableError
from tools.schema import Base, record_from

log = logging.getLogger(__name__)

PENDING, DONE, FAILED = "pending", "done", "failed"
MAX_ATTEMPTS = 5
STATE_PAUSE = 1.0  # seconds between tries while the state database is away


class _InboxRow(Base):
    __tablename__ = "alert_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True, default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[float] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text, default="")


def inbox_engine(data_dir: Path) -> Engine:
    """``inbox.db`` in the data directory, every statement its own transaction."""
    return sqlite_engine(data_dir, "inbox.db").execution_options(isolation_level="AUTOCOMMIT")


@dataclass(frozen=True)
class InboxItem:
    id: int
    source: str
    body: str
    attempts: int
    received_at: float


class AlertInbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Writers in this process queue here instead of in SQLite's sleeping busy handler.
        self._write = threading.Lock()

    def add(self, body: str, source: str, now: float) -> int:
        with self._write, Session(self._engine) as session, session.begin():
            row = _InboxRow(source=source, body=body, status=PENDING, received_at=now)
            session.add(row)
            session.flush()
            return row.id

    def oldest_pending(self) -> InboxItem | None:
        with Session(self._engine) as session:
            row = session.scalars(
                select(_InboxRow).where(_InboxRow.status == PENDING).order_by(_InboxRow.id)
            ).first()
            if row is None:
                return None
            return record_from(InboxItem, row)

    def finish(self, item_id: int, status: str, error: str = "") -> None:
        """Mark an attempt: done, failed for good, or (PENDING) to be tried again."""
        with self._write, Session(self._engine) as session, session.begin():
            session.execute(
                update(_InboxRow)
                .where(_InboxRow.id == item_id)
                .values(status=status, error=error, attempts=_InboxRow.attempts + 1)
            )

    def count(self, status: str = PENDING) -> int:
        with Session(self._engine) as session:
            return int(session.scalar(select(func.count()).where(_InboxRow.status == status)) or 0)


# Takes one validated notification into the threads: (group JSON, source, received_at).
Receiver = Callable[[str, str, float], None]
# Tells people about a notification Medic cannot handle: (its body, what is wrong, in words).
Notifier = Callable[[str, str], None]


class AlertIntake(Worker):
    """The one worker that empties the inbox, in order."""

    name = "alert-intake"
    failure_pause = 1.0

    def __init__(
        self,
        inbox: AlertInbox,
        receive: Receiver,
        notify: Notifier,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self._inbox = inbox
        self._receive = receive
        self._notify = notify
        self._pause = pause

    def pending(self) -> int:
        return self._inbox.count()

    def work(self) -> bool:
        return self.take_one()

    def settled(self) -> bool:
        """The inbox is empty: also of what another process wrote and has not announced."""
        return self.pending() == 0

    def take_one(self) -> bool:
        """Take the oldest waiting notification in; False when there was none."""
        item = self._inbox.oldest_pending()
        if item is None:
            return False
        try:
            self._receive(item.body, item.source, item.received_at)
        except StateUnavailableError as exc:
            # The state database's fault, not the notification's: it waits for as long as that
            # takes, and the tries do not count against it.
            log.warning("alert notification %d waits: %s", item.id, exc.reason)
            self._pause(STATE_PAUSE)
        except MedicError as exc:  # e.g. an alert for a service Medic does not know
            log.warning("alert notification %d not handled: %s", item.id, exc)
            self._inbox.finish(item.id, FAILED, str(exc))
            self._notify(item.body, str(exc))
        except Exception as exc:
            if item.attempts + 1 >= MAX_ATTEMPTS:
                log.exception("alert notification %d failed %d times; giving up", item.id,
                              MAX_ATTEMPTS)  # fmt: skip
                self._inbox.finish(item.id, FAILED, repr(exc))
                self._notify(item.body, f"an alert notification could not be handled: {exc}")
            else:
                log.exception("alert notification %d failed; retrying", item.id)
                self._inbox.finish(item.id, PENDING, repr(exc))
                self._pause(min(30.0, 2.0**item.attempts))
        else:
            self._inbox.finish(item.id, DONE)
        return True
