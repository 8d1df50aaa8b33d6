"""The cluster an audit entry is about, with several clusters in one process (issue 16): an
action can never run against a cluster other than its alert's, and the audit says which it was.
Entries written before keep "" (no cluster), and their hashes stay valid: the cluster is hashed
only when it is set (tools/audit.py).

Revision ID: 0008_clusters
Revises: 0003_watch
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_clusters"
down_revision = "0006_postmortem_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "audit_log", sa.Column("cluster", sa.String(256), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:  # SQLite: the table is copied without it
        batch.drop_column("cluster")
