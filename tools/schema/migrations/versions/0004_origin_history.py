"""The origin ranking's history (issue 14): each service's channel values in a namespace's recent
investigations, so a restart or another replica still compares a service with its own past.

Revision ID: 0004_origin_history
Revises: 0003_watch
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_origin_history"
down_revision = "0003_watch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "origin_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("investigation", sa.String(32), nullable=False),
        sa.Column("service", sa.String(63), nullable=False),
        sa.Column("investigated_at", sa.Float, nullable=False),
        sa.Column("channels", sa.Text, nullable=False),
        sa.UniqueConstraint("investigation", "service", name="uq_origin_history_service"),
    )
    op.create_index(
        "ix_origin_history_namespace_at", "origin_history", ["namespace", "investigated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_origin_history_namespace_at", table_name="origin_history")
    op.drop_table("origin_history")
