"""Incidents: alerts become incidents, deduplicated by fingerprint while open, persisted.

The database holds the rule: a partial unique index allows one open incident per fingerprint, and
an incident is opened with ``INSERT .. ON CONFLICT DO NOTHING``, so replicas taking in the same
notification at once (an Alertmanager HA pair sends each one to every replica) open it once.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Float, Index, Integer, String, Text, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.alerts import Alert
from tools.schema import Base, record_from
from tools.schema.fit import Clipped, Hashed
from tools.transactions import transaction
from tools.upsert import insert_new

OPEN = text("status = 'open'")  # the predicate of the partial unique index, as ON CONFLICT names it

NAME_CHARS = 253  # an alert's name as kept (PostgreSQL refuses a longer value: the alert was lost)
LOOKUP_CHUNK = 500  # fingerprints per IN (...): well within every database's parameter limit
# PostgreSQL advisory locks (two-int form) serialising openers of one fingerprint: "INCI"
OPENING_LOCK = 0x494E4349


class _IncidentRow(Base):
    __tablename__ = "incidents"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    group_key: Mapped[str] = mapped_column(Text, default="")
    alertname: Mapped[str] = mapped_column(Clipped(NAME_CHARS))
    service: Mapped[str] = mapped_column(Hashed(253))
    namespace: Mapped[str] = mapped_column(Hashed(253))
    status: Mapped[str] = mapped_column(String(16), index=True)
    starts_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    resolved_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    labels: Mapped[str] = mapped_column(Text)
    annotations: Mapped[str] = mapped_column(Text)
    # The assembled diagnosis (bot.diagnosis.stored), JSON: verification and memory after a
    # restart read it instead of investigating and planning again. NULL until diagnosed.
    diagnosis: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)

    __table_args__ = (
        Index(
            "uq_incidents_open_fingerprint",
            "fingerprint",
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        ),
    )


@dataclass(frozen=True)
class Incident:
    id: str
    fingerprint: str
    group_key: str
    alertname: str
    service: str
    namespace: str
    status: str
    starts_at: float
    created_at: float
    resolved_at: float | None
    labels: dict[str, str]
    annotations: dict[str, str]

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or f"{self.alertname} on {self.service}"


def incident_id(seq: int) -> str:
    return f"INC-{seq:04d}"


def _one_opener(session: Session, fingerprint: str) -> None:
    """On PostgreSQL, replicas opening the same fingerprint at once take turns (a lock held to the
    end of the transaction), so the second finds the first's incident instead of inserting too:
    an insert that does nothing still advances the sequence, and users saw INC-0004 follow
    INC-0002. SQLite numbers rows by the largest one and writes one at a time: nothing to do."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = zlib.crc32(fingerprint.encode()) - 2**31  # into int4
    session.execute(
        text("SELECT pg_advisory_xact_lock(:kind, :key)"), {"kind": OPENING_LOCK, "key": key}
    )


class IncidentStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @transaction
    def open_or_attach(
        self, alert: Alert, *, service: str, namespace: str, group_key: str, now: float
    ) -> tuple[Incident, bool]:
        """The open incident with this alert's fingerprint, or a new one; True when new (for
        exactly one of several replicas taking in the same alert at once)."""
        values = {
            "fingerprint": alert.identity,
            "group_key": group_key,
            "alertname": alert.name,  # a label is data: cut to the column by its type (Clipped)
            "service": service,
            "namespace": namespace,
            "status": "open",
            "starts_at": alert.starts_at.timestamp(),
            "created_at": now,
            "labels": json.dumps(alert.labels, sort_keys=True),
            "annotations": json.dumps(alert.annotations, sort_keys=True),
        }
        opened = select(_IncidentRow).where(
            _IncidentRow.fingerprint == alert.identity, _IncidentRow.status == "open"
        )
        with Session(self._engine) as session, session.begin():
            _one_opener(session, alert.identity)
            while True:  # the open one found may resolve before it is read: then insert again
                row = session.scalars(opened).first()
                if row is not None:
                    return _to_incident(row), False
                if insert_new(session, _IncidentRow, values, key=["fingerprint"], where=OPEN):
                    return _to_incident(session.scalars(opened).one()), True

    @transaction
    def get(self, id_: str) -> Incident | None:
        seq = _seq(id_)
        if seq is None:
            return None
        with Session(self._engine) as session:
            row = session.get(_IncidentRow, seq)
            return _to_incident(row) if row else None

    @transaction
    def resolve(self, id_: str, now: float) -> bool:
        """Resolve an open incident; True for the one caller that resolved it."""
        seq = _seq(id_)
        with Session(self._engine) as session, session.begin():
            done = session.execute(
                update(_IncidentRow)
                .where(_IncidentRow.seq == seq, _IncidentRow.status == "open")
                .values(status="resolved", resolved_at=now)
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    @transaction
    def save_diagnosis(self, id_: str, diagnosis: str) -> None:
        """Keep the incident's assembled diagnosis (JSON) with it, replacing an earlier one."""
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(_IncidentRow)
                .where(_IncidentRow.seq == _seq(id_))
                .values(diagnosis=diagnosis)
            )

    @transaction
    def diagnosis(self, id_: str) -> str | None:
        """The incident's stored diagnosis (JSON); None when it was never diagnosed (or was
        diagnosed by a version that did not keep it)."""
        seq = _seq(id_)
        if seq is None:
            return None
        with Session(self._engine) as session:
            return session.scalar(select(_IncidentRow.diagnosis).where(_IncidentRow.seq == seq))

    @transaction
    def open_with_fingerprints(self, fingerprints: Collection[str]) -> list[Incident]:
        """The open incidents of these alerts, oldest first: an indexed lookup whose cost does not
        grow with the incidents open elsewhere (in an alert storm, thousands)."""
        wanted = sorted(set(fingerprints))
        found: list[_IncidentRow] = []
        with Session(self._engine) as session:
            for i in range(0, len(wanted), LOOKUP_CHUNK):
                found += session.scalars(
                    select(_IncidentRow).where(
                        _IncidentRow.fingerprint.in_(wanted[i : i + LOOKUP_CHUNK]),
                        _IncidentRow.status == "open",
                    )
                )
            return [_to_incident(r) for r in sorted(found, key=lambda r: r.seq)]

    @transaction
    def open_incidents(self) -> list[Incident]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_IncidentRow).where(_IncidentRow.status == "open").order_by(_IncidentRow.seq)
            )
            return [_to_incident(r) for r in rows]


MAX_SEQ = 2**31 - 1  # the largest incident number the column holds (INTEGER on PostgreSQL)


def _seq(id_: str) -> int | None:
    """The number of an incident id such as ``INC-0007``; None for anything that names no
    incident - other digits than ASCII ones, or a number beyond the column (typed by a person:
    `INC-` and 30 digits was an OverflowError from SQLite, 5,000 a ValueError from ``int``)."""
    prefix, _, number = id_.partition("-")
    if prefix != "INC" or not (number.isascii() and number.isdigit()) or len(number) > 10:
        return None
    seq = int(number)
    return seq if seq <= MAX_SEQ else None


def _to_incident(row: _IncidentRow) -> Incident:
    labels: dict[str, Any] = json.loads(row.labels)
    return record_from(
        Incident,
        row,
        id=incident_id(row.seq),
        labels=labels,
        annotations=json.loads(row.annotations),
    )
