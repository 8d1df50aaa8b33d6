"""Alembic's environment for Medic's migrations: they always run on a connection Medic opened and
locked (:func:`tools.schema.upgrade`), handed over in ``config.attributes``; there is no
alembic.ini and no URL read here."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Medic's migrations run through `medic db upgrade` (tools.schema.upgrade)")
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("metadata"),
    render_as_batch=True,  # SQLite alters a table by copying it
)
with context.begin_transaction():
    context.run_migrations()
