"""A channel not read is unknown, not zero (issue 14): an investigation reads the logs of a few
candidates only, and the rows kept before this release hold 0 for the log and trace channels of
every service whose logs were not read - a neighbour read for the first time was judged against
those zeros. Rows kept from now on leave such channels out (``knowledge.origins.metrics_only``), and
the ranking compares a service only with the windows a channel was read in.

Old rows cannot say which zeros were read, so a log channel (errors, drops) at 0 is left out of
them (unknown); a non-zero one was read. The other channels keep their zeros: every candidate's
metrics are read (the screen), and the ranking reads any other channel missing as 0 anyway.
Downgrading changes nothing: the code before this revision reads a channel that is not there as
0, which is what the rows said.

Revision ID: 0012_origin_read
Revises: 0011_origin_leader
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0012_origin_read"
down_revision = "0011_origin_leader"
branch_labels = None
depends_on = None

LOG_CHANNELS = frozenset({"errors", "drops"})  # knowledge.ranking.LOG_CHANNELS, as of 0012
BATCH = 1000


def upgrade() -> None:
    rows = sa.table(
        "origin_history", sa.column("id", sa.Integer()), sa.column("channels", sa.Text())
    )
    bind = op.get_bind()
    last = -1
    while True:
        found = bind.execute(
            sa.select(rows.c.id, rows.c.channels)
            .where(rows.c.id > last)
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not found:
            return
        for row_id, text in found:
            kept = _read_only(text)
            if kept is not None:
                bind.execute(rows.update().where(rows.c.id == row_id).values(channels=kept))
        last = found[-1][0]


def _read_only(text: str) -> str | None:
    """The row's channels without the zeros of its log channels (None: unchanged,
    also for a row that is not a JSON object - the store reads it as none already)."""
    try:
        values = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(values, dict):
        return None
    kept = {c: v for c, v in values.items() if c not in LOG_CHANNELS or v != 0}
    return None if len(kept) == len(values) else json.dumps(kept, sort_keys=True)


def downgrade() -> None:
    pass  # the zeros left out read as 0 before this revision, as they were stored
