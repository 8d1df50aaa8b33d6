"""The tables of what the Slack side remembers (:mod:`bot.slack.thread_store` reads and writes
them): the threads, the incidents in each thread with their investigation's lease, each
incident's timeline, and the Slack deliveries already handled. Declared on the one schema's base;
the migrations in ``tools/schema/migrations`` create and change them."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tools.schema import Base
from tools.schema.fit import Hashed


class ThreadRow(Base):
    __tablename__ = "slack_threads"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    view: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class LinkRow(Base):
    __tablename__ = "slack_thread_incidents"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_key: Mapped[str] = mapped_column(Text, index=True)
    service: Mapped[str] = mapped_column(Hashed(253))
    namespace: Mapped[str] = mapped_column(Hashed(253))
    lead: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[float] = mapped_column(Float)
    investigated: Mapped[bool] = mapped_column(Boolean, default=False)
    diagnosis_text: Mapped[str] = mapped_column(Text, default="")
    diagnosis_head: Mapped[str] = mapped_column(Text, default="[]")
    proposal_ids: Mapped[str] = mapped_column(Text, default="[]")
    after: Mapped[str] = mapped_column(Text, default="")
    # The investigation's lease: who runs it, until when, how many tries began, dead-lettered.
    lease_owner: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)


class EventRow(Base):
    __tablename__ = "slack_timeline"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)


class SeenRow(Base):
    __tablename__ = "slack_seen"

    key: Mapped[str] = mapped_column(Hashed(255), primary_key=True)
    at: Mapped[float] = mapped_column(Float)
