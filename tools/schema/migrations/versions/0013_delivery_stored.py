"""A PagerDuty delivery's claim is pending until the delivery is stored in the inbox
(``receiver_deliveries.stored``): a copy meanwhile is asked to retry, and a claim left pending by a
request that died is taken over after its lease (``bot/slack/deliveries.py``). Rows from before
were recorded after their delivery was stored.

Revision ID: 0013_delivery_stored
Revises: 0012_origin_read
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_delivery_stored"
down_revision = "0012_origin_read"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receiver_deliveries") as table:
        table.add_column(
            sa.Column("stored", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("receiver_deliveries") as table:
        table.drop_column("stored")
