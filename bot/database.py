"""The state database: SQLite in the data directory by default, any SQLAlchemy URL at scale.

SQLite runs in WAL mode (readers never wait for a writer) with a busy timeout (a writer waits
that long for another one); transactions that still meet a lock, or a PostgreSQL server that
restarts, are retried for ``database.retry_seconds`` (:mod:`tools.transactions`). ``/healthz``
asks :class:`StateHealth` whether the database can be written and read right now.

Every engine made here has its database at this release's schema first: the Alembic upgrade
(:func:`tools.schema.upgrade`, under a lock) runs when the engine is made - a no-op costing one
read when the database is already there - so the stores, which never create tables, find theirs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Float, Integer, create_engine, event, make_url, update
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.pool import NullPool

from bot.database_bounds import STATEMENT_TIMEOUT_SECONDS, answer_seconds, bound_answers
from bot.database_bounds import connect_args as bounded_connect_args
from bot.errors import ConfigError
from tools.schema import Base, SchemaError, upgrade
from tools.transactions import DEFAULT_RETRY_SECONDS, transient_reason, with_retry_budget

if TYPE_CHECKING:
    from bot.config import DatabaseSettings

BUSY_TIMEOUT_SECONDS = 5.0  # SQLite: how long a statement waits for another writer
CONNECT_TIMEOUT_SECONDS = 10.0  # PostgreSQL: longest wait for a new connection
PROBE_TIMEOUT = 2.0  # seconds /healthz waits for the state database
CACHE_SECONDS = 1.0  # a flood of /healthz costs the database one probe write a second

log = logging.getLogger(__name__)


def state_engine(
    data_dir: Path,
    url: str | None = None,
    database: DatabaseSettings | None = None,
    *,
    migrate: bool = True,
) -> Engine:
    """The state database: ``url`` (e.g. ``postgresql+psycopg://medic@db/medic``, shared by several
    bot replicas) or SQLite in the data directory, with its busy timeout and retry budget; at
    this release's schema unless ``migrate`` is False (``medic db upgrade`` migrates itself)."""
    busy = database.busy_timeout_seconds if database else BUSY_TIMEOUT_SECONDS
    retry = database.retry_seconds if database else DEFAULT_RETRY_SECONDS
    connect = database.connect_timeout_seconds if database else CONNECT_TIMEOUT_SECONDS
    statement = database.statement_timeout_seconds if database else STATEMENT_TIMEOUT_SECONDS
    if url is None:
        engine = sqlite_engine(data_dir, busy_timeout=busy, migrate=migrate)
        return with_retry_budget(engine, retry)
    where = shown_url(url)
    try:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_timeout=answer_seconds(statement),
            connect_args=_connect_args(url, connect, statement),
        )
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"cannot use database_url {where!r}: {exc}; use e.g. postgresql+psycopg://USER@HOST/DB"
        ) from exc
    if engine.dialect.driver == "psycopg":
        bound_answers(engine, statement)
    try:
        engine.connect().close()
    except SQLAlchemyError as exc:
        raise ConfigError(
            f"cannot connect to the state database {where!r}: {_first_line(exc)}; check "
            "database_url (MEDIC_DATABASE_URL) and that the server is up"
        ) from exc
    return with_retry_budget(migrated(engine) if migrate else engine, retry)


def _first_line(exc: SQLAlchemyError) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["no detail"])[0]


def shown_url(url: str) -> str:
    """``url`` as errors show it: the driver, host, port and database only. A user name,
    password or query parameter (``?password=...``, ``sslkey=...``) may be a secret; errors are
    read in terminals, logs and CI output."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(not a database URL)"
    host = f"{parsed.host or ''}" + (f":{parsed.port}" if parsed.port else "")
    return f"{parsed.drivername}://{host}/{parsed.database or ''}"


def _connect_args(url: str, seconds: float, statement: float) -> dict[str, Any]:
    """A PostgreSQL connection gives up after ``seconds`` (libpq waits for ever by default: a
    server, proxy or firewall that accepts and never answers would hang every click), unless
    the URL sets its own ``connect_timeout``; with psycopg, the server cancels a statement after
    ``statement`` seconds and a peer gone from the network is noticed
    (:func:`bot.database_bounds.connect_args`; options the URL sets come after, so they win)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return {}
    if parsed.get_backend_name() != "postgresql":
        return {}
    args: dict[str, Any] = {}
    if parsed.get_driver_name() == "psycopg":
        args = bounded_connect_args(statement)
        for name, value in parsed.query.items():
            if name == "options":
                args["options"] += " " + (value if isinstance(value, str) else " ".join(value))
            else:
                args.pop(name, None)  # the URL's own keepalives or tcp_user_timeout
    if "connect_timeout" not in parsed.query:
        args["connect_timeout"] = max(1, round(seconds))
    return args


def sqlite_engine(
    data_dir: Path,
    name: str = "medic.db",
    busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    *,
    migrate: bool = True,
) -> Engine:
    path = data_dir / name
    engine = _sqlite(f"sqlite:///{path}", busy_timeout)
    try:
        engine.connect().close()
    except DatabaseError as exc:
        if isinstance(exc, OperationalError):  # locked, busy: the retries' business, not a fault
            raise
        engine.dispose()
        raise ConfigError(
            f"{path} is not a SQLite database ({exc.orig}); move it aside to start afresh, or "
            "restore it from a backup"
        ) from exc
    return migrated(engine) if migrate else engine


def migrated(engine: Engine) -> Engine:
    """``engine`` with its database at this release's schema; a database a newer release wrote
    is a configuration problem, said in words."""
    try:
        upgrade(engine)
    except SchemaError as exc:
        raise ConfigError(str(exc)) from exc
    return engine


def _sqlite(url: str, busy_timeout: float, **kwargs: Any) -> Engine:
    # The driver's timeout is SQLite's busy timeout: how long a statement waits for a writer.
    engine = create_engine(url, connect_args={"timeout": busy_timeout}, **kwargs)

    @event.listens_for(engine, "connect")
    def _wal(conn, _record):  # type: ignore[no-untyped-def]
        # WAL lets readers proceed while a transition commits.
        conn.execute("PRAGMA journal_mode=WAL")

    return engine


class _ProbeRow(Base):
    """One row /healthz rewrites: the state database takes writes."""

    __tablename__ = "medic_health"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Float)


class StateHealth:
    """Whether the state database can be written and read right now, asked on connections of
    its own with a short timeout, so a locked or unreachable database answers quickly."""

    def __init__(self, engine: Engine, timeout: float = PROBE_TIMEOUT) -> None:
        try:
            with Session(engine) as session, session.begin():
                if session.get(_ProbeRow, 1) is None:
                    session.add(_ProbeRow(id=1, at=0.0))
        except IntegrityError:
            pass  # another replica wrote it first
        self._probe = _probe_engine(engine, timeout)
        self._lock = threading.Lock()
        self._asked = -CACHE_SECONDS
        self._last: str | None = None

    def problem(self, now: float) -> str | None:
        """None when a write and a read went through; otherwise what is wrong, in words (no
        host or driver detail: /healthz answers anyone). Asked at most once per second."""
        with self._lock:
            if time.monotonic() - self._asked < CACHE_SECONDS:
                return self._last
            self._last = self._ask(now)
            self._asked = time.monotonic()
            return self._last

    def _ask(self, now: float) -> str | None:
        try:
            with Session(self._probe) as session, session.begin():
                session.execute(update(_ProbeRow).where(_ProbeRow.id == 1).values(at=now))
            with Session(self._probe) as session:
                session.get(_ProbeRow, 1)
        except SQLAlchemyError as exc:
            log.warning("state database health check failed: %s", exc)
            return transient_reason(exc) or f"the state database failed ({type(exc).__name__})"
        return None

    def close(self) -> None:
        self._probe.dispose()


def _probe_engine(engine: Engine, timeout: float) -> Engine:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return _sqlite(url.render_as_string(hide_password=False), timeout, poolclass=NullPool)
    ms = int(timeout * 1000)
    args: dict[str, Any] = {}
    if url.get_driver_name() == "psycopg":
        args = {
            "connect_timeout": max(1, round(timeout)),
            "options": f"-c lock_timeout={ms} -c statement_timeout={ms}",
        }
        # A frozen server never cancels: the client's own wait is bounded too.
        probe = create_engine(url, poolclass=NullPool, connect_args=args)
        return bound_answers(probe, timeout, f"the health check's {timeout:g} s plus the grace")
    return create_engine(url, poolclass=NullPool, connect_args=args)


def prepare_data_dir(path: Path) -> Path:
    """Create the data directory if needed and make sure Medic can write in it."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"data directory {path} is a file; set MEDIC_DATA_DIR to a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create data directory {path}: {exc.strerror}; set MEDIC_DATA_DIR"
        ) from exc
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigError(
            f"data directory {path} is not readable and writable; fix its permissions or set "
            "MEDIC_DATA_DIR"
        )
    return path
