"""Postmortems (issue 17): each verification's verdict kept with its incident, and the incident's
latest postmortem draft (its wording, and when it was published back into the memory).

Revision ID: 0006_postmortem_drafts
Revises: 0003_watch
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_postmortem_drafts"
down_revision = "0004_origin_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_verifications",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("recovered", sa.Boolean, nullable=False),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "postmortem_drafts",
        sa.Column("incident_id", sa.String(64), primary_key=True),
        sa.Column("markdown", sa.Text, nullable=False),
        sa.Column("wording", sa.String(16), nullable=False),
        sa.Column("wording_note", sa.Text, nullable=False),
        sa.Column("drafted_at", sa.Float, nullable=False),
        sa.Column("published_at", sa.Float, nullable=True),
        sa.Column("published", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("postmortem_drafts")
    op.drop_table("incident_verifications")
