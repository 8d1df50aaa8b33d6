"""The watch's tables: services added with `/medic watch add`, the heads-ups it posted (and the
alert group that took over each thread), and the scheduled passes claimed by one replica each.

Revision ID: 0003_watch
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_watch"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_targets",
        sa.Column("namespace", sa.String(63), primary_key=True),
        sa.Column("service", sa.String(63), primary_key=True),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
    )
    op.create_table(
        "watch_headsups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("thread_key", sa.String(255), nullable=False, index=True),
        sa.Column("opens", sa.Boolean, nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False, index=True),
        sa.Column("service", sa.String(63), nullable=False, index=True),
        sa.Column("finding", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False, index=True),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("alert_key", sa.Text, nullable=True, index=True),
    )
    op.create_table(
        "watch_passes",
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("watch_passes", "watch_headsups", "watch_targets"):
        op.drop_table(table)
