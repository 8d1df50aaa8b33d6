"""Corrections: what people in the incident thread say the cause (or the fix) really was.

"root cause was actually the DB pool" is recorded on the incident. The memory planner and the
diagnosis read a past incident through its latest correction, so the next similar incident is
diagnosed and fixed as the people who handled this one said, not as Medic first guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.diagnosis.signals import Glossary
from knowledge.records import IncidentRecord, Remediation
from tools.schema import Base, record_from
from tools.transactions import transaction


class _CorrectionRow(Base):
    __tablename__ = "corrections"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    cause: Mapped[str | None] = mapped_column(String(128), nullable=True)
    fix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(128))
    at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Correction:
    incident_id: str
    cause: str | None  # a cause key of the catalog, when the text names one
    fix: str | None  # the tool that fixed it, when the text says so
    text: str
    by: str
    at: float


class CorrectionStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @transaction
    def add(self, correction: Correction) -> Correction:
        with Session(self._engine) as session, session.begin():
            session.add(_CorrectionRow(**asdict(correction)))
        return correction

    @transaction
    def latest(self, incident_ids: Iterable[str]) -> dict[str, Correction]:
        """The latest correction of each incident that has one."""
        ids = list(dict.fromkeys(incident_ids))
        if not ids:
            return {}
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_CorrectionRow)
                .where(_CorrectionRow.incident_id.in_(ids))
                .order_by(_CorrectionRow.seq)
            )
            return {r.incident_id: record_from(Correction, r) for r in rows}


_CORRECTION = re.compile(
    r"\b(actually|really|in fact|turned out|it was|was caused by|real cause|root cause was|"
    r"cause was|not the|wasn't|was not)\b",
    re.IGNORECASE,
)
_FIXED_BY = re.compile(
    r"\b(fixed|solved|resolved|cured|helped)\b|\bfix was\b|\bwhat worked\b", re.IGNORECASE
)
_TOOL_WORDS: dict[str, tuple[str, ...]] = {
    "rollback": ("rollback", "roll back", "rolled back", "rolling back", "revert"),
    "restart": ("restart", "bounce", "bounced"),
    "scale": ("scale", "scaled", "scaling", "more replicas", "added replicas"),
    "purge_cache": ("purge", "purged", "flush", "flushed", "cleared the cache"),
}
DEFAULT_RECIPES: dict[str, dict[str, Any]] = {
    "scale": {"factor": 2},
    "purge_cache": {"pattern": "{service}:*"},
}


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9]+", " ", text.lower()) + " "


def _mentions(text: str, phrase: str) -> bool:
    return _words(phrase) in text


def parse_correction(text: str, catalog: Glossary) -> tuple[str | None, str | None] | None:
    """(cause key, fix tool) named by a correction such as "root cause was actually the DB pool,
    a rollback fixed it"; None when the text is not a correction or names neither."""
    if not _CORRECTION.search(text) and not _FIXED_BY.search(text):
        return None
    words = _words(text)
    best: tuple[int, str] | None = None
    for known in catalog.causes:
        phrases = (known.title, known.key.replace("-", " "), *known.aliases)
        for phrase in phrases:
            if _mentions(words, phrase) and (best is None or len(phrase) > best[0]):
                best = (len(phrase), known.key)
    fix = None
    fixed = _FIXED_BY.search(text)
    if fixed:
        for tool, names in _TOOL_WORDS.items():
            if any(_mentions(words, n) for n in names):
                fix = tool
                break
    cause = best[1] if best and _CORRECTION.search(text) else None
    if cause is None and fix is None:
        return None
    return cause, fix


def corrected(record: IncidentRecord, correction: Correction | None) -> IncidentRecord:
    """The record as the people who handled it said it was."""
    if correction is None:
        return record
    update: dict[str, Any] = {}
    if correction.cause is not None:
        update["cause"] = correction.cause
        update["root_cause"] = f"{correction.text} (corrected by {correction.by})"
    if correction.fix is not None:
        recipe = DEFAULT_RECIPES.get(correction.fix, {})
        update["remediation"] = [Remediation(tool=correction.fix, params=recipe)]
        update["outcome"] = "resolved"
    return record.model_copy(update=update)
