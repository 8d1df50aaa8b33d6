"""Medic's one schema: the declarative base every store's tables are declared on, and the Alembic
migrations that create and change them (``medic db upgrade``, also run at every start). Nothing
else creates a table or alters one."""

from tools.schema.base import Base, record_from
from tools.schema.clock import database_now, read_database_now
from tools.schema.migrate import (
    SCHEMA_LOCK,
    SchemaError,
    alembic_config,
    head,
    revision,
    upgrade,
    upgraded,
)

__all__ = [
    "SCHEMA_LOCK",
    "Base",
    "SchemaError",
    "alembic_config",
    "database_now",
    "head",
    "read_database_now",
    "record_from",
    "revision",
    "upgrade",
    "upgraded",
]
