"""Every table of Medic's one schema, in one metadata: the stores declare their tables on
:class:`tools.schema.Base` in their own modules, so importing those modules here gathers them all
- for checking the migrations against the models, and for autogenerating the next revision
(``tools.schema.alembic_config(connection, metadata())``)."""

from __future__ import annotations

from sqlalchemy import MetaData

import bot.database
import bot.diagnosis.corrections
import bot.diagnosis.origin_store
import bot.incidents
import bot.postmortems.store
import bot.slack.deliveries
import bot.slack.inbox
import bot.slack.outbox
import bot.slack.thread_store
import bot.slack.thread_tables
import bot.watch.store
import tools.audit
import tools.proposals
from tools.schema import Base

STORES = (
    bot.database,
    bot.diagnosis.corrections,
    bot.diagnosis.origin_store,
    bot.incidents,
    bot.postmortems.store,
    bot.slack.deliveries,
    bot.slack.inbox,
    bot.slack.outbox,
    bot.slack.thread_store,
    bot.slack.thread_tables,
    bot.watch.store,
    tools.audit,
    tools.proposals,
)


def metadata() -> MetaData:
    """The metadata holding every table (the modules in :data:`STORES` declared them)."""
    return Base.metadata
