"""The schema of the last release without migrations, and the adoption of its databases.

Every table as that release's stores created them. On an empty database this creates them all.
A database that release wrote (its tables there, no ``alembic_version``) is adopted in place and
keeps its rows: tables it never needed (a CLI that opened only some stores; the inbox file,
which held only ``alert_inbox``) are created, the columns earlier releases added in place with
``ALTER TABLE`` are added where missing, and the one-open-incident-per-fingerprint index is made
after resolving the duplicate open incidents that releases before it could leave (the oldest of
each fingerprint stays open). Alembic then records this revision, as for a new database.

The tables are written out here, not imported from the stores: a revision is what the schema was
then, whatever the models say later.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("tools.schema")

OPEN = sa.text("status = 'open'")
meta = sa.MetaData()

sa.Table(
    "incidents", meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
    sa.Column("group_key", sa.Text, nullable=False),
    sa.Column("alertname", sa.String(253), nullable=False),
    sa.Column("service", sa.String(253), nullable=False),
    sa.Column("namespace", sa.String(253), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("starts_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("resolved_at", sa.Float, nullable=True),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("annotations", sa.Text, nullable=False),
    sa.Index("uq_incidents_open_fingerprint", "fingerprint", unique=True,
             postgresql_where=OPEN, sqlite_where=OPEN),
)  # fmt: skip
sa.Table(
    "proposals", meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("incident_id", sa.String(64), nullable=False, index=True),
    sa.Column("tool", sa.String(64), nullable=False),
    sa.Column("namespace", sa.String(253), nullable=False),
    sa.Column("name", sa.String(253), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("source", sa.String(256), nullable=False),
    sa.Column("requested_by", sa.String(128), nullable=False),
    sa.Column("cluster", sa.String(256), nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("preview", sa.Text, nullable=False),
    sa.Column("recipe", sa.Text, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("decided_at", sa.Float, nullable=True),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("claim", sa.String(32), nullable=False),
    sa.Column("expected", sa.Text, nullable=False),
)  # fmt: skip
sa.Table(
    "execution_locks", meta,
    sa.Column("key", sa.String(800), primary_key=True),
    sa.Column("locked_at", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "audit_log", meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("tool", sa.String(64), nullable=False),
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("proposal_id", sa.String(32), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False),
)  # fmt: skip
sa.Table(
    "audit_head", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)  # fmt: skip
sa.Table(
    "corrections", meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.String(64), nullable=False, index=True),
    sa.Column("cause", sa.String(128), nullable=True),
    sa.Column("fix", sa.String(64), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "slack_threads", meta,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("external", sa.Boolean, nullable=False),
    sa.Column("view", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "slack_thread_incidents", meta,
    sa.Column("incident_id", sa.String(64), primary_key=True),
    sa.Column("thread_key", sa.Text, nullable=False, index=True),
    sa.Column("service", sa.String(253), nullable=False),
    sa.Column("namespace", sa.String(253), nullable=False),
    sa.Column("lead", sa.Boolean, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("investigated", sa.Boolean, nullable=False),
    sa.Column("diagnosis_text", sa.Text, nullable=False),
    sa.Column("diagnosis_head", sa.Text, nullable=False),
    sa.Column("proposal_ids", sa.Text, nullable=False),
    sa.Column("after", sa.Text, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=False),
    sa.Column("lease_until", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("dead", sa.Boolean, nullable=False),
)  # fmt: skip
sa.Table(
    "slack_timeline", meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)  # fmt: skip
sa.Table(
    "slack_seen", meta,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
)  # fmt: skip
sa.Table(
    "slack_outbox", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("thread_key", sa.Text, nullable=False, index=True),
    sa.Column("op", sa.String(16), nullable=False),
    sa.Column("ref", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("in_thread", sa.Boolean, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
)  # fmt: skip
sa.Table(
    "slack_messages", meta,
    sa.Column("thread_key", sa.Text, primary_key=True),
    sa.Column("ref", sa.String(128), primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("ts", sa.String(32), nullable=False),
)  # fmt: skip
sa.Table(
    "alert_inbox", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
)  # fmt: skip
sa.Table(
    "medic_health", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.Float, nullable=False),
)  # fmt: skip

# Columns releases before this one added in place (tools/schema.py's add_missing_columns), as
# they added them: nullable or defaulted, so the rows already there stay valid.
ADDED_IN_PLACE = {
    "proposals": {
        "requested_by": "VARCHAR(128) DEFAULT 'medic' NOT NULL",
        "cluster": "VARCHAR(256) DEFAULT '' NOT NULL",
        "started_at": "FLOAT",
        "claim": "VARCHAR(32) DEFAULT '' NOT NULL",
        "expected": "TEXT DEFAULT '{}' NOT NULL",
    },
    "slack_thread_incidents": {
        "lease_owner": "VARCHAR(64) DEFAULT '' NOT NULL",
        "lease_until": "FLOAT DEFAULT 0 NOT NULL",
        "attempts": "INTEGER DEFAULT 0 NOT NULL",
        "dead": "BOOLEAN DEFAULT FALSE NOT NULL",
    },
}


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    adopted = present & set(meta.tables)
    if adopted:
        log.warning("adopting a database written before migrations (tables: %s)",
                    ", ".join(sorted(adopted)))  # fmt: skip
    for table in meta.sorted_tables:
        if table.name not in present:
            table.create(bind)
    for name, added in ADDED_IN_PLACE.items():
        if name in adopted:
            columns = {c["name"] for c in sa.inspect(bind).get_columns(name)}
            for column, ddl in added.items():
                if column not in columns:
                    op.execute(f"ALTER TABLE {name} ADD COLUMN {column} {ddl}")
    if "incidents" in adopted:
        _one_open_incident_per_fingerprint(bind)


def _one_open_incident_per_fingerprint(bind: sa.Connection) -> None:
    """The partial unique index, on a database whose incidents table predates it: the duplicate
    open incidents are resolved first (at their own creation time), keeping the oldest."""
    index = next(i for i in meta.tables["incidents"].indexes if i.unique)
    if index.name in {i["name"] for i in sa.inspect(bind).get_indexes("incidents")}:
        return
    incidents = meta.tables["incidents"]
    oldest = (
        sa.select(sa.func.min(incidents.c.seq))
        .where(incidents.c.status == "open")
        .group_by(incidents.c.fingerprint)
    )
    duplicates = bind.execute(
        sa.update(incidents)
        .where(incidents.c.status == "open", incidents.c.seq.not_in(oldest))
        .values(status="resolved", resolved_at=incidents.c.created_at)
    ).rowcount
    if duplicates:
        log.warning("resolved %d duplicate open incident(s) of one fingerprint", duplicates)
    index.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    meta.drop_all(bind)
