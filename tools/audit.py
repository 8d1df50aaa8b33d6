"""The audit log: every proposal, decision and result, append-only and hash-chained.

Each entry stores who, what (tool, target, parameters, and the cluster when Medic has several),
the policy decision and the result, plus the SHA-256 of its own content and of the entry before
it. Editing an entry breaks its hash, deleting one breaks the chain and the sequence, cutting the
tail disagrees with the head record.
An entry is appended under a lock on the head record, and ``prev_hash`` is unique, so two writers
that read the same head cannot both append after it: the loser retries on the new head, and the
chain never forks (SQLite and PostgreSQL alike). A proposal's transition writes its entry in its
own transaction (``append(..., session=...)``): the change and its record commit together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Float, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from tools.schema import Base, record_from
from tools.transactions import transaction

if TYPE_CHECKING:
    from tools.actions import Action
    from tools.proposals import Proposal

GENESIS = "0" * 64
APPEND_ATTEMPTS = 20


class _EntryRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(32))
    tool: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(512))
    params: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    proposal_id: Mapped[str] = mapped_column(String(32))
    # the cluster acted on (migration 0008_clusters); "" in entries written before it
    cluster: Mapped[str] = mapped_column(String(256), default="", server_default="")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class _HeadRow(Base):
    """The last entry's sequence number and hash, updated with every append: a cut tail shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: float
    actor: str
    event: str
    tool: str
    target: str
    params: dict[str, Any]
    decision: str
    result: str
    proposal_id: str
    prev_hash: str
    hash: str
    cluster: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    entries: int
    head: str
    problems: list[str]


def entry_hash(seq: int, prev_hash: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"seq": seq, "prev": prev_hash, **content}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._create_head()

    @transaction
    def _create_head(self) -> None:
        """The head record exists from the start (entry 0), so every append can lock it."""
        try:
            with Session(self._engine) as session, session.begin():
                if session.get(_HeadRow, 1) is None:
                    session.add(_HeadRow(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass  # another process created it first

    def append(
        self,
        *,
        at: float,
        actor: str,
        event: str,
        tool: str,
        target: str,
        params: dict[str, Any],
        decision: str,
        result: str,
        proposal_id: str = "",
        cluster: str = "",
        session: Session | None = None,
    ) -> AuditEntry:
        """Append one entry: in a transaction of its own, or inside ``session``'s (a proposal's
        transition), committed or rolled back with it."""
        content: dict[str, Any] = {
            "at": at,
            "actor": actor,
            "event": event,
            "tool": tool,
            "target": target,
            "params": json.dumps(params, sort_keys=True),
            "decision": decision,
            "result": result,
            "proposal_id": proposal_id,
            **_cluster_content(cluster),
        }
        if session is not None:
            return _append_in(session, content)
        for _ in range(APPEND_ATTEMPTS):
            try:
                return self._append(content)
            except IntegrityError:
                continue  # another writer appended after the head this one read: read it again
        raise RuntimeError("could not append to the audit log: too much contention")

    def record(
        self,
        action: Action,
        *,
        at: float,
        actor: str,
        event: str,
        decision: str,
        result: str = "",
        proposal_id: str = "",
        cluster: str = "",
        session: Session | None = None,
    ) -> AuditEntry:
        """The one way an entry about an action is written: its tool, target and parameters
        come from ``action`` - a refusal, a dry run, or (through :meth:`entry`) a proposal's
        transition, whose cluster is the proposal's own."""
        return self.append(
            at=at,
            actor=actor,
            event=event,
            tool=action.tool,
            target=action.target,
            params=action.params,
            decision=decision,
            result=result,
            proposal_id=proposal_id,
            cluster=cluster,
            session=session,
        )

    def entry(
        self, *, at: float, actor: str, event: str, decision: str, result: str = ""
    ) -> Callable[[Session, Proposal], None]:
        """The entry a proposal's transition writes about it, inside the transition's own
        transaction (``then`` of :class:`~tools.proposals.ProposalStore`)."""

        def write(session: Session, proposal: Proposal) -> None:
            self.record(
                proposal.action,
                at=at,
                actor=actor,
                event=event,
                decision=decision,
                result=result,
                proposal_id=proposal.id,
                cluster=proposal.cluster,
                session=session,
            )

        return write

    @transaction
    def _append(self, content: dict[str, Any]) -> AuditEntry:
        with Session(self._engine) as session, session.begin():
            return _append_in(session, content)

    @transaction
    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """Oldest first; with ``limit``, the latest ``limit`` entries."""
        with Session(self._engine) as session:
            query = select(_EntryRow).order_by(_EntryRow.seq.desc())
            if limit is not None:
                query = query.limit(limit)
            return [_to_entry(r) for r in reversed(list(session.scalars(query)))]

    @transaction
    def verify(self) -> AuditReport:
        """Recompute every hash and link; any edited, deleted or reordered entry is a problem."""
        problems: list[str] = []
        prev, expected_seq = GENESIS, 1
        with Session(self._engine) as session:
            rows = list(session.scalars(select(_EntryRow).order_by(_EntryRow.seq)))
            head = session.get(_HeadRow, 1)
        for row in rows:
            if row.seq != expected_seq:
                problems.append(f"entries {expected_seq}..{row.seq - 1} are missing")
            if row.prev_hash != prev:
                problems.append(f"entry {row.seq} does not follow the entry before it")
            content = {c: getattr(row, c) for c in _CONTENT} | _cluster_content(row.cluster)
            if entry_hash(row.seq, row.prev_hash, content) != row.hash:
                problems.append(f"entry {row.seq} was modified after it was written")
            prev, expected_seq = row.hash, row.seq + 1
        last_seq = rows[-1].seq if rows else 0
        if head is not None and (head.seq != last_seq or head.hash != prev):
            problems.append(f"the log ends at entry {last_seq} but entry {head.seq} was written")
        if head is None and rows:
            problems.append("the head record is missing")
        return AuditReport(not problems, len(rows), prev, problems)


def _append_in(session: Session, content: dict[str, Any]) -> AuditEntry:
    """The next entry after the head, which stays locked until the transaction ends."""
    head = session.get(_HeadRow, 1, with_for_update=True, populate_existing=True)
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    digest = entry_hash(seq, prev, content)
    row = _EntryRow(seq=seq, prev_hash=prev, hash=digest, **content)
    session.add(row)
    if head is None:  # a log whose head record was lost: verify() says so
        session.add(_HeadRow(id=1, seq=seq, hash=digest))
    else:
        head.seq, head.hash = seq, digest
    session.flush()
    return _to_entry(row)


_CONTENT = (
    "at",
    "actor",
    "event",
    "tool",
    "target",
    "params",
    "decision",
    "result",
    "proposal_id",
)


def _cluster_content(cluster: str) -> dict[str, str]:
    """The cluster's part of an entry's hashed content: none when it names no cluster, so the
    hashes of entries written before the column existed still check out."""
    return {"cluster": cluster} if cluster else {}


def _to_entry(row: _EntryRow) -> AuditEntry:
    return record_from(AuditEntry, row, params=json.loads(row.params))
