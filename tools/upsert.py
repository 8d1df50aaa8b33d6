"""Insert a row unless one with the same key is there: ``INSERT .. ON CONFLICT DO NOTHING`` in the
database's own dialect (PostgreSQL or SQLite), so two replicas inserting the same key at once
leave one row and each learns whether it was the one that inserted it - no read-then-insert race,
no unique violation to catch and no aborted transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, TextClause, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def insert_new(
    session: Session,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    *,
    key: Sequence[str],
    where: ColumnElement[bool] | TextClause | None = None,
) -> bool:
    """Insert ``values`` into ``model``'s table unless a row with the same ``key`` columns exists
    (among the rows matching ``where``, for a partial unique index); True when inserted. Under
    PostgreSQL an insert racing another transaction's waits for it and then does nothing."""
    dialect = session.get_bind().dialect.name
    insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"insert_new supports PostgreSQL and SQLite, not {dialect}")
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(key), index_where=where)
        .returning(literal_column("1"))
    )
    # RETURNING answers a row only when one was inserted (the driver's rowcount is not reliable
    # for INSERT .. ON CONFLICT across drivers).
    return session.execute(statement).first() is not None
