"""The origin ranking's history kept in the state database (``origin_history``, migration 0004):
one row per service an investigation ranked - its namespace, when, its channel values as a
small JSON object, and whether the investigation named it the origin (``led``, migration 0011) -
so a restart, or another replica, still compares each service with its own
past instead of falling back on its peers (on Nezha: AS@1 0.54 against 0.79 with the earlier
incidents as history). A channel the investigation did not read (the logs of a service beyond
the few it reads) is not in the row: unknown, not 0 (migration 0012 left the zeros of older rows'
log channels out for the same reason).

Bounded as in memory: the last ``keep`` investigations of a namespace (older ones are deleted
when a new one is kept), at most ``NAMESPACES`` namespaces (the least recently investigated
deleted first), names and values bounded by ``origin_history.numbers_of``. Each investigation's
rows carry a token of their own and are inserted with ``ON CONFLICT DO NOTHING``: a transaction
retried after a commit whose answer was lost inserts nothing twice, and two replicas keeping
evidence at once keep both investigations. A database that is down answers within
``RETRY_SECONDS`` as :class:`~bot.diagnosis.origin_history.HistoryUnavailableError`: the ranking is
worth less without its history, not worth waiting the state database's whole retry budget for.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    Boolean,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    false,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.diagnosis.origin_history import (
    MAX_NAME,
    HistoryUnavailableError,
    Recalled,
    as_features,
    numbers_of,
)
from knowledge.ranking import Features
from tools.errors import StateUnavailableError
from tools.schema import Base
from tools.transactions import RETRY_OPTION, retry_budget, transaction

NAMESPACES = 1000  # namespaces kept; alerts name them, so their number is bounded here
RETRY_SECONDS = 2.0  # at most this long retrying a database that does not answer
log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

MAX_JSON = 4096  # characters of one service's channel values (about 1 KB at most when written)


class OriginHistoryRow(Base):
    """One service's channel values in one investigation of its namespace."""

    __tablename__ = "origin_history"
    __table_args__ = (
        UniqueConstraint("investigation", "service", name="uq_origin_history_service"),
        Index("ix_origin_history_namespace_at", "namespace", "investigated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(63))
    investigation: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(63))
    investigated_at: Mapped[float] = mapped_column(Float)
    channels: Mapped[str] = mapped_column(Text)
    led: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StoredHistory:
    """:class:`~bot.diagnosis.origin_history.OriginHistory` in the state database, shared by the
    replicas; ``now``: the clock's time an investigation is kept at."""

    _engine: Engine

    def __init__(self, engine: Engine, keep: int, now: Callable[[], float]) -> None:
        self._engine = engine.execution_options(
            **{RETRY_OPTION: min(retry_budget(engine), RETRY_SECONDS)}
        )
        self._keep = keep
        self._now = now

    def past(self, namespace: str) -> list[Mapping[str, Features]]:
        """The evidence alone (``recall``'s windows)."""
        return self.recall(namespace).windows

    def recall(self, namespace: str) -> Recalled:
        if self._keep <= 0 or not 0 < len(namespace) <= MAX_NAME:
            return Recalled([], [])
        rows = _unavailable_as_history(self._read)(namespace)
        by_investigation: dict[str, dict[str, object]] = {}
        leaders: dict[str, str | None] = {}
        for investigation, service, channels, led in rows:
            by_investigation.setdefault(investigation, {})[service] = _decoded(channels)
            leaders.setdefault(investigation, None)
            if led:
                leaders[investigation] = service
        windows = [as_features(numbers_of(found)) for found in by_investigation.values()]
        named = [  # a leader whose row was unreadable is no leader
            leader if leader in window else None
            for leader, window in zip(leaders.values(), windows, strict=True)
        ]
        return Recalled(list(windows), named)

    def keep(
        self, namespace: str, found: Mapping[str, Features], leader: str | None = None
    ) -> None:
        numbers = numbers_of(found)
        if self._keep <= 0 or not numbers or not 0 < len(namespace) <= MAX_NAME:
            return
        token = uuid.uuid4().hex  # made once, so a retried transaction recognises its own rows
        _unavailable_as_history(self._write)(namespace, token, numbers, self._now(), leader)

    @transaction
    def _read(self, namespace: str) -> list[tuple[str, str, str, bool]]:
        """The rows of the namespace's newest ``keep`` investigations, oldest first."""
        with Session(self._engine) as session:
            newest = _newest(namespace).limit(self._keep).subquery()
            found = session.execute(
                select(
                    OriginHistoryRow.investigation,
                    OriginHistoryRow.service,
                    OriginHistoryRow.channels,
                    OriginHistoryRow.led,
                )
                .join(newest, newest.c.investigation == OriginHistoryRow.investigation)
                .where(OriginHistoryRow.namespace == namespace)
                .order_by(newest.c.at, newest.c.last, OriginHistoryRow.id)
            ).all()
            return [(r[0], r[1], r[2], bool(r[3])) for r in found]

    @transaction
    def _write(
        self,
        namespace: str,
        token: str,
        numbers: dict[str, dict[str, float]],
        at: float,
        leader: str | None = None,
    ) -> None:
        with Session(self._engine) as session, session.begin():
            known = session.scalar(
                select(OriginHistoryRow.id).where(OriginHistoryRow.namespace == namespace).limit(1)
            )
            rows = [
                {
                    "namespace": namespace,
                    "investigation": token,
                    "service": service,
                    "investigated_at": at,
                    "channels": json.dumps(values, sort_keys=True),
                    "led": service == leader,
                }
                for service, values in numbers.items()
            ]
            dialect = session.get_bind().dialect.name
            insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
            session.execute(
                insert(OriginHistoryRow)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["investigation", "service"])
            )
            older = [r[0] for r in session.execute(_newest(namespace).offset(self._keep)).all()]
            if older:
                session.execute(
                    delete(OriginHistoryRow).where(
                        OriginHistoryRow.namespace == namespace,
                        OriginHistoryRow.investigation.in_(older),
                    )
                )
            if known is None:  # only a namespace new to the table can make one too many
                _forget_least_recent(session)


def _newest(namespace: str) -> Any:
    """The namespace's investigations, newest first: (token, when, its last row's id)."""
    at = func.max(OriginHistoryRow.investigated_at).label("at")
    last = func.max(OriginHistoryRow.id).label("last")
    return (
        select(OriginHistoryRow.investigation, at, last)
        .where(OriginHistoryRow.namespace == namespace)
        .group_by(OriginHistoryRow.investigation)
        .order_by(at.desc(), last.desc())
    )


def _forget_least_recent(session: Session) -> None:
    """Past ``NAMESPACES`` namespaces, the least recently investigated are deleted."""
    at = func.max(OriginHistoryRow.investigated_at).label("at")
    stale = [
        r[0]
        for r in session.execute(
            select(OriginHistoryRow.namespace, at)
            .group_by(OriginHistoryRow.namespace)
            .order_by(at.desc(), OriginHistoryRow.namespace)
            .offset(NAMESPACES)
        ).all()
    ]
    if stale:
        session.execute(delete(OriginHistoryRow).where(OriginHistoryRow.namespace.in_(stale)))


def _decoded(text: str) -> object:
    """A row's channel values; anything that is not a small JSON object reads as none."""
    if len(text) > MAX_JSON:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _unavailable_as_history(method: Callable[P, R]) -> Callable[P, R]:
    """``method`` with the database's failures said as :class:`HistoryUnavailableError`."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except StateUnavailableError as exc:
            raise HistoryUnavailableError(exc.reason) from exc
        except SQLAlchemyError as exc:  # not transient: a bug or a broken schema, logged whole
            log.exception("origin history: the state database failed")
            why = f"the state database failed ({type(exc).__name__})"
            raise HistoryUnavailableError(why) from exc

    return run
