"""Cooldowns of the model tools per model: a ``subject`` column on proposals names what on the
target a cooldown counts per (the model of promote_model and retrain; '' for the other tools).
Existing model proposals get their model from their parameters, so a promotion made before the
upgrade still holds its model's cooldown after it.

Revision ID: 0009_model_cooldowns
Revises: 0003_watch
Create Date: 2026-12-06
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009_model_cooldowns"
down_revision = "0008_clusters"
branch_labels = None
depends_on = None

PER_MODEL = ("promote_model", "retrain")  # tools.guard.PER_MODEL when this was written


def upgrade() -> None:
    op.add_column(
        "proposals", sa.Column("subject", sa.String(256), nullable=False, server_default="")
    )
    proposals = sa.table(
        "proposals",
        sa.column("id", sa.String),
        sa.column("tool", sa.String),
        sa.column("params", sa.Text),
        sa.column("subject", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(proposals.c.id, proposals.c.params).where(proposals.c.tool.in_(PER_MODEL))
    )
    for proposal_id, params in rows.fetchall():
        try:
            model = json.loads(params or "{}").get("model")
        except (ValueError, AttributeError):
            continue
        if isinstance(model, str) and model:
            bind.execute(
                sa.update(proposals)
                .where(proposals.c.id == proposal_id)
                .values(subject=model[:256])
            )


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:  # SQLite: the table is copied without it
        batch.drop_column("subject")
