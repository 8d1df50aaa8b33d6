"""Deliveries a receiver took in (PagerDuty's signed events), shared by every replica and kept
across restarts: a replayed delivery is taken once, not once per process
(``bot/slack/deliveries.py``). Only a hash of the sender's id is kept; rows are bounded in age and
number by the store.

Revision ID: 0010_receiver_replay
Revises: 0009_model_cooldowns
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_receiver_replay"
down_revision = "0009_model_cooldowns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receiver_deliveries",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("at", sa.Float(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("receiver_deliveries")
