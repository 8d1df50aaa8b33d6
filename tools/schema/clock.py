"""The state database's clock: the one clock replicas read for a decision they must agree on (which
scheduled watch pass is due, whether a proposal's time to approve ran out). Each replica's own
wall clock may be minutes off the others' (a VM resumed from suspend, a host with broken NTP);
the database server's is one clock for all of them. On SQLite, replicas share a host and so a
clock anyway (SQLite computes ``'now'`` in the process that asks).

:class:`database_now` is a SQL expression, so a conditional UPDATE compares with the database's
time in the same statement that moves the row; :func:`read_database_now` reads it in a session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, select
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class database_now(FunctionElement[float]):  # noqa: N801  (a SQL function, named as SQL's are)
    """Seconds since the epoch (UTC) by the database's clock, as a float."""

    type = Float()
    inherit_cache = True
    name = "database_now"


@compiles(database_now)
def _unsupported(element: database_now, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"database_now supports PostgreSQL and SQLite, not {compiler.dialect.name}")


@compiles(database_now, "postgresql")
def _postgresql(element: database_now, compiler: SQLCompiler, **kw: Any) -> str:
    # the statement's start: one instant for the whole statement, later than any earlier one's
    return "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)"


@compiles(database_now, "sqlite")
def _sqlite(element: database_now, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday('now') has millisecond resolution and is one instant within a statement
    return "((julianday('now') - 2440587.5) * 86400.0)"


def read_database_now(session: Session) -> float:
    """The database's time now, read in ``session`` (in its transaction, when it has one)."""
    return float(session.execute(select(database_now())).scalar_one())
