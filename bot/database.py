"""The state database: SQLite in the data directory by default, any SQLAlchemy URL at scale."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.errors import ConfigError


def state_engine(data_dir: Path, url: str | None = None) -> Engine:
    """The state database: ``url`` (e.g. ``postgresql+psycopg://medic@db/medic``, shared by several
    bot replicas) or SQLite in the data directory."""
    if url is None:
        return sqlite_engine(data_dir)
    where = url.split("@")[-1]
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"cannot use database_url {where!r}: {exc}; use e.g. postgresql+psycopg://USER@HOST/DB"
        ) from exc
    try:
        engine.connect().close()
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["no detail"])[0]
        raise ConfigError(
            f"cannot connect to the state database {where!r}: {reason}; check database_url "
            "(MEDIC_DATABASE_URL) and that the server is up"
        ) from exc
    return engine


def sqlite_engine(data_dir: Path, name: str = "medic.db") -> Engine:
    engine = create_engine(f"sqlite:///{data_dir / name}")

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
        # WAL lets readers proceed while a transition commits; busy_timeout waits out other writers.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")

    return engine


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
