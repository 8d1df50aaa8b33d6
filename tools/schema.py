"""Columns added to a table after a data directory was created, added in place (no migration tool
yet: issue 12 brings Alembic). Each column is nullable or defaulted, so rows written by an earlier
version stay valid."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError


def add_missing_columns(engine: Engine, table: str, added: dict[str, str]) -> None:
    """``ALTER TABLE .. ADD COLUMN`` each of ``added`` (name: DDL) the table lacks. Replicas
    starting together may race to add a column: the loser finds it there and moves on."""
    for name, ddl in added.items():
        if name in _columns(engine, table):
            continue
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))
        except SQLAlchemyError:
            if name not in _columns(engine, table):
                raise


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}
