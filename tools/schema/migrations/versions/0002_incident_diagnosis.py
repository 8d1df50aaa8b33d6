"""The incident's assembled diagnosis, persisted with it: verification and memory after a restart
read it instead of investigating again. Nullable: incidents from before have none.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("diagnosis", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:  # SQLite: the table is copied without it
        batch.drop_column("diagnosis")
