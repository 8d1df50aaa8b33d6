"""The stores' tables created, and columns added to them after a data directory was created, in
place (no migration tool yet: issue 12 brings Alembic). Replicas starting together on one
PostgreSQL would race to create the same table (a unique violation on ``pg_type``) or add the same
column: on PostgreSQL each such change runs holding one advisory lock, so one replica makes it and
the others find it made; SQLite's write lock already serialises them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, MetaData, inspect, text

SCHEMA_LOCK = 0x4D45444943  # "MEDIC": the advisory lock the replicas' schema changes take


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """Create ``metadata``'s tables (and their indexes) that do not exist yet."""
    change_schema(engine, metadata.create_all)


def change_schema(engine: Engine, change: Callable[[Connection], object]) -> None:
    """Run ``change`` in one transaction, alone among the replicas on PostgreSQL."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        change(conn)


def add_missing_columns(engine: Engine, table: str, added: dict[str, str]) -> None:
    """``ALTER TABLE .. ADD COLUMN`` each of ``added`` (name: DDL) the table lacks; each column is
    nullable or defaulted, so rows written by an earlier version stay valid."""

    def add(conn: Connection) -> None:
        present = {c["name"] for c in inspect(conn).get_columns(table)}
        for name, ddl in added.items():
            if name not in present:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))

    if set(added) - {c["name"] for c in inspect(engine).get_columns(table)}:
        change_schema(engine, add)
