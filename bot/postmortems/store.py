"""What a postmortem is made from and what it becomes, kept with the incident in the state
database: each verification's verdict (the only step of an incident nothing else keeps after the
process ends - the memory keeps only a sentence of it, and only when an action ran), and the
incident's latest draft with how it was worded and when it was published back into the memory."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Boolean, Engine, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tools.schema import Base, record_from
from tools.transactions import transaction
from tools.upsert import insert_new

MAX_CHECKS = 20  # checks kept per verification; a verification has a handful
MAX_CHECK_CHARS = 500


class _VerificationRow(Base):
    __tablename__ = "incident_verifications"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[float] = mapped_column(Float)
    recovered: Mapped[bool] = mapped_column(Boolean)
    checks: Mapped[str] = mapped_column(Text)  # JSON list of sentences
    note: Mapped[str] = mapped_column(Text, default="")


class _DraftRow(Base):
    __tablename__ = "postmortem_drafts"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    markdown: Mapped[str] = mapped_column(Text)
    wording: Mapped[str] = mapped_column(String(16))  # 'record' or 'llm'
    wording_note: Mapped[str] = mapped_column(Text, default="")
    drafted_at: Mapped[float] = mapped_column(Float)
    published_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    published: Mapped[str | None] = mapped_column(Text, nullable=True)  # the text ingested


@dataclass(frozen=True)
class VerificationEntry:
    at: float
    recovered: bool
    checks: list[str]
    note: str


@dataclass(frozen=True)
class StoredDraft:
    incident_id: str
    markdown: str
    wording: str
    wording_note: str
    drafted_at: float
    published_at: float | None
    published: str | None


class PostmortemStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @transaction
    def record_verification(
        self, incident_id: str, at: float, recovered: bool, checks: list[str], note: str = ""
    ) -> None:
        kept = [c[:MAX_CHECK_CHARS] for c in checks[:MAX_CHECKS]]
        with Session(self._engine) as session, session.begin():
            session.add(
                _VerificationRow(
                    incident_id=incident_id,
                    at=at,
                    recovered=recovered,
                    checks=json.dumps(kept),
                    note=note[:MAX_CHECK_CHARS],
                )
            )

    @transaction
    def verifications(self, incident_id: str) -> list[VerificationEntry]:
        """The incident's verifications, oldest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_VerificationRow)
                .where(_VerificationRow.incident_id == incident_id)
                .order_by(_VerificationRow.seq)
            )
            return [record_from(VerificationEntry, r, checks=json.loads(r.checks)) for r in rows]

    @transaction
    def save_draft(
        self, incident_id: str, markdown: str, wording: str, note: str, now: float
    ) -> StoredDraft:
        """Keep ``markdown`` as the incident's draft, replacing an earlier one (a draft asked for
        twice at once: the later write wins, both are whole)."""
        values = _draft_values(incident_id, markdown, wording, note, now)
        with Session(self._engine) as session, session.begin():
            if not insert_new(session, _DraftRow, values, key=["incident_id"]):
                row = session.get(_DraftRow, incident_id, with_for_update=True)
                assert row is not None
                for key, value in values.items():
                    setattr(row, key, value)
        stored = self.draft(incident_id)
        assert stored is not None
        return stored

    @transaction
    def save_draft_once(
        self,
        incident_id: str,
        markdown: str,
        wording: str,
        note: str,
        now: float,
        *,
        within: float,
        same: Callable[[str, str], bool],
    ) -> bool:
        """Keep ``markdown`` as the incident's draft, unless the saved one, drafted at most
        ``within`` seconds ago, is the ``same``: then nothing is written and False is returned.
        Decided under the row's lock: a draft asked twice at once is saved, and posted, once."""
        values = _draft_values(incident_id, markdown, wording, note, now)
        with Session(self._engine) as session, session.begin():
            if insert_new(session, _DraftRow, values, key=["incident_id"]):
                return True
            row = session.get(_DraftRow, incident_id, with_for_update=True)
            assert row is not None
            if abs(now - row.drafted_at) <= within and same(row.markdown, markdown):
                return False
            for key, value in values.items():
                setattr(row, key, value)
            return True

    @transaction
    def draft(self, incident_id: str) -> StoredDraft | None:
        with Session(self._engine) as session:
            row = session.get(_DraftRow, incident_id)
            return record_from(StoredDraft, row) if row else None

    @transaction
    def mark_published(self, incident_id: str, text: str, now: float) -> None:
        """Note that ``text`` went into the memory as the incident's postmortem."""
        with Session(self._engine) as session, session.begin():
            row = session.get(_DraftRow, incident_id, with_for_update=True)
            if row is None:
                values = {
                    "incident_id": incident_id,
                    "markdown": text,
                    "wording": "published",
                    "wording_note": "",
                    "drafted_at": now,
                }
                insert_new(session, _DraftRow, values, key=["incident_id"])
                row = session.get(_DraftRow, incident_id)
                assert row is not None
            row.published_at = now
            row.published = text


def _draft_values(
    incident_id: str, markdown: str, wording: str, note: str, now: float
) -> dict[str, object]:
    """A draft row's columns, as both ways of saving a draft write them."""
    return {
        "incident_id": incident_id,
        "markdown": markdown,
        "wording": wording,
        "wording_note": note,
        "drafted_at": now,
    }
