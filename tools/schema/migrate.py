"""Medic's schema brought up to date: Alembic's migrations, shipped inside the package and
configured here (no alembic.ini), run under a lock so replicas starting together on one database
do not race - one upgrades, the others wait and find it done.

On PostgreSQL the lock is an advisory lock held for the upgrade's transaction (DDL is
transactional there: an upgrade that fails leaves nothing half done). On SQLite it is the
database's write lock, taken at the start (``BEGIN IMMEDIATE``) on a connection of its own: the
driver would otherwise run the DDL outside any transaction and two processes could both decide
to create the same table. A database already at the head costs one read and no lock.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMA_LOCK = 0x4D45444943  # "MEDIC": the advisory lock schema changes take on PostgreSQL
LOCK_WAIT_SECONDS = 120.0  # SQLite: how long an upgrade waits for another process's write lock


class SchemaError(Exception):
    """The database's schema cannot be brought to this release's (e.g. a newer release wrote
    it)."""


def alembic_config(
    connection: Connection | None = None, metadata: MetaData | None = None
) -> Config:
    """Alembic's configuration, made here: the migrations of this package, run on
    ``connection``; ``metadata`` (every table) for autogenerating a revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["metadata"] = metadata
    return config


@functools.cache
def head() -> str:
    """The newest revision this release ships."""
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert found is not None
    return found


def revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a new database or one written before
    migrations."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str | None]:
    """Bring ``engine``'s database to ``target`` (a database written before migrations is
    adopted by the first revision, its rows kept); (revision before, revision after)."""
    before = revision(engine)
    if before == head() and target == "head":
        return before, before
    with _locked(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        try:
            command.upgrade(alembic_config(conn), target)
        except CommandError as exc:
            raise SchemaError(
                f"cannot upgrade the database from schema revision {before} ({exc}); "
                "a newer Medic may have written it: run that release or a newer one"
            ) from exc
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "nothing", after)
    return before, after


def upgraded(engine: Engine) -> Engine:
    """``engine`` with its database at the head revision (for code and tests that make engines
    of their own)."""
    upgrade(engine)
    return engine


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the schema lock; committed when the block ends."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            yield conn
        return
    writer = create_engine(url, poolclass=NullPool, connect_args={"timeout": LOCK_WAIT_SECONDS})

    @event.listens_for(writer, "connect")
    def _own_transactions(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # the driver issues no BEGIN of its own
        dbapi.execute("PRAGMA journal_mode=WAL")  # as every Medic connection to it does

    @event.listens_for(writer, "begin")
    def _write_lock(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with writer.begin() as conn:
            yield conn
    finally:
        writer.dispose()
