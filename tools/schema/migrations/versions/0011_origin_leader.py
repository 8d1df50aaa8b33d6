"""The origin each investigation named, kept with its evidence (issue 14): a service's yardstick
leaves out the windows it led, so a fault that recurs does not become its usual and fade from
the ranking (``knowledge.origins.normal_windows``). Rows kept before read as led by no one.

Revision ID: 0011_origin_leader
Revises: 0010_receiver_replay
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_origin_leader"
down_revision = "0010_receiver_replay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "origin_history",
        sa.Column("led", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("origin_history") as batch:  # SQLite: the table is copied without it
        batch.drop_column("led")
