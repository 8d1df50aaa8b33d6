"""Proposals and their state machine, persisted with SQLAlchemy.

proposed -> approved -> executing -> succeeded | failed, or proposed -> rejected | expired;
``refused`` records a proposal the guard turned down when it was made. Every transition is one
conditional UPDATE (``... WHERE id = ? AND status = ?``), which SQLite and PostgreSQL both execute
atomically, so a double click, a retried request, two threads or two bot processes approving the
same proposal change it once; the loser is told who won and when. Starting an execution also
takes a per-target lock row, so two *different* proposals for the same tool and workload cannot
both pass the cooldown by starting at the same moment.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Float, Integer, String, Text, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tools.actions import UNREACHABLE, Action, ToolResult


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    REFUSED = "refused"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class _Base(DeclarativeBase):
    pass


class _ProposalRow(_Base):
    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    tool: Mapped[str] = mapped_column(String(64))
    namespace: Mapped[str] = mapped_column(String(253))
    name: Mapped[str] = mapped_column(String(253))
    params: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(256))
    requested_by: Mapped[str] = mapped_column(String(128), default="medic")
    cluster: Mapped[str] = mapped_column(String(256), default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    preview: Mapped[str] = mapped_column(Text, default="")
    recipe: Mapped[str] = mapped_column(Text, default="{}")
    rank: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str] = mapped_column(Text, default="")


class _TargetLockRow(_Base):
    """One row per cluster, tool and workload; starting an execution there writes it first."""

    __tablename__ = "execution_locks"

    key: Mapped[str] = mapped_column(String(800), primary_key=True)
    locked_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Proposal:
    id: str
    incident_id: str
    action: Action
    digest: str
    status: ProposalStatus
    source: str
    requested_by: str
    cluster: str
    rationale: str
    preview: str
    recipe: dict[str, Any]
    created_at: float
    expires_at: float
    decided_by: str | None
    decided_at: float | None
    started_at: float | None
    finished_at: float | None
    outcome: str

    @property
    def refusal(self) -> str:
        """Why a refused proposal was refused, in words (its outcome is ``rule: reason``)."""
        rule, _, reason = self.outcome.partition(": ")
        return (
            f"not done: {reason}" if rule == UNREACHABLE else f"refused by policy: {self.outcome}"
        )


@dataclass(frozen=True)
class Transition:
    """The answer to a request to move a proposal: did it move, and if not, why not."""

    ok: bool
    proposal: Proposal
    reason: str = ""


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts or 0, UTC).strftime("%H:%M:%S UTC")


class ProposalStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        _Base.metadata.create_all(engine)
        _add_missing_columns(engine)

    def create(
        self,
        incident_id: str,
        action: Action,
        *,
        source: str,
        rationale: str,
        requested_by: str = "medic",
        cluster: str = "",
        preview: str,
        recipe: dict[str, Any],
        now: float,
        ttl_seconds: float,
        rank: int = 0,
        refused_because: str | None = None,
    ) -> Proposal:
        """Record a proposal; ``rank`` orders the proposals of one plan (0 = best)."""
        row = _ProposalRow(
            id=uuid.uuid4().hex[:12],
            incident_id=incident_id,
            tool=action.tool,
            namespace=action.namespace,
            name=action.name,
            params=json.dumps(action.params, sort_keys=True),
            digest=action.digest(),
            status=ProposalStatus.REFUSED if refused_because else ProposalStatus.PROPOSED,
            source=source,
            requested_by=requested_by,
            cluster=cluster,
            rationale=rationale,
            preview=preview,
            recipe=json.dumps(recipe, sort_keys=True),
            rank=rank,
            created_at=now,
            expires_at=now + ttl_seconds,
            outcome=refused_because or "",
        )
        with Session(self._engine) as session, session.begin():
            session.add(row)
            session.flush()
            return _to_proposal(row)

    def get(self, proposal_id: str) -> Proposal | None:
        with Session(self._engine) as session:
            row = session.get(_ProposalRow, proposal_id)
            return _to_proposal(row) if row else None

    def for_incident(self, incident_id: str) -> list[Proposal]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_ProposalRow)
                .where(_ProposalRow.incident_id == incident_id)
                .order_by(_ProposalRow.created_at, _ProposalRow.rank)
            )
            return [_to_proposal(r) for r in rows]

    def last_execution(self, action: Action, cluster: str) -> float | None:
        """When the same tool last started on the same target in ``cluster`` (for cooldowns)."""
        with Session(self._engine) as session:
            return _last_start(session, action, cluster)

    def approve(self, proposal_id: str, user: str, digest: str, now: float) -> Transition:
        """Approve what was shown: the digest must match the stored action, before it expires."""
        moved = self._move(
            proposal_id,
            ProposalStatus.PROPOSED,
            ProposalStatus.APPROVED,
            extra_where=(_ProposalRow.digest == digest, _ProposalRow.expires_at > now),
            values={"decided_by": user, "decided_at": now},
        )
        if not moved:
            self._move(
                proposal_id,
                ProposalStatus.PROPOSED,
                ProposalStatus.EXPIRED,
                extra_where=(_ProposalRow.expires_at <= now,),
            )
        return self._explain(proposal_id, moved, digest=digest, now=now)

    def reject(self, proposal_id: str, user: str, now: float) -> Transition:
        moved = self._move(
            proposal_id,
            ProposalStatus.PROPOSED,
            ProposalStatus.REJECTED,
            values={"decided_by": user, "decided_at": now},
        )
        return self._explain(proposal_id, moved, now=now)

    def withdraw(self, proposal_id: str, reason: str, now: float) -> Transition:
        """proposed -> withdrawn: Medic takes a pending proposal back (its alert resolved)."""
        moved = self._move(
            proposal_id,
            ProposalStatus.PROPOSED,
            ProposalStatus.WITHDRAWN,
            values={"decided_by": "medic", "decided_at": now, "outcome": reason},
        )
        return self._explain(proposal_id, moved, now=now)

    def begin_execution(
        self,
        proposal_id: str,
        now: float,
        may_start: Callable[[float | None], str | None] = lambda _last: None,
    ) -> Transition:
        """approved -> executing; only one caller ever wins. ``may_start`` gets when the same
        tool last started on the same target (another proposal) and returns a refusal (``rule:
        reason``), or None; a refused proposal becomes ``refused``, so it does not hang approved.

        The target's lock row is written first, so on PostgreSQL a second start on the same
        target waits for this transaction (and on SQLite for the database's write lock) and then
        sees this start: a cooldown cannot be passed by two proposals at once.
        """
        proposal = self.get(proposal_id)
        if proposal is None:
            raise KeyError(f"no proposal {proposal_id}")
        action = proposal.action
        key = "/".join((proposal.cluster, action.tool, action.namespace, action.name))
        with Session(self._engine) as session, session.begin():
            _lock_target(session, key, now)
            refusal = may_start(_last_start(session, action, proposal.cluster))
            values = (
                {"status": ProposalStatus.EXECUTING, "started_at": now}
                if refusal is None
                else {"status": ProposalStatus.REFUSED, "finished_at": now, "outcome": refusal}
            )
            stmt = (
                update(_ProposalRow)
                .where(
                    _ProposalRow.id == proposal_id,
                    _ProposalRow.status == ProposalStatus.APPROVED,
                )
                .values(**values)
            )
            moved = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
        return self._explain(proposal_id, moved and refusal is None)

    def refuse_approved(self, proposal_id: str, reason: str, now: float) -> Transition:
        """approved -> refused: the guard turned the action down when it was about to run (the
        policy or the cluster changed after the approval)."""
        moved = self._move(
            proposal_id,
            ProposalStatus.APPROVED,
            ProposalStatus.REFUSED,
            values={"finished_at": now, "outcome": reason},
        )
        return self._explain(proposal_id, moved)

    def finish(self, proposal_id: str, result: ToolResult, now: float) -> Proposal:
        status = ProposalStatus.SUCCEEDED if result.ok else ProposalStatus.FAILED
        self._move(
            proposal_id,
            ProposalStatus.EXECUTING,
            status,
            values={"finished_at": now, "outcome": result.summary},
        )
        proposal = self.get(proposal_id)
        assert proposal is not None
        return proposal

    def _move(
        self,
        proposal_id: str,
        source: ProposalStatus,
        target: ProposalStatus,
        extra_where: tuple[Any, ...] = (),
        values: dict[str, Any] | None = None,
    ) -> bool:
        stmt = (
            update(_ProposalRow)
            .where(_ProposalRow.id == proposal_id, _ProposalRow.status == source, *extra_where)
            .values(status=target, **(values or {}))
        )
        with Session(self._engine) as session, session.begin():
            return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def _explain(
        self, proposal_id: str, moved: bool, digest: str | None = None, now: float | None = None
    ) -> Transition:
        proposal = self.get(proposal_id)
        if proposal is None:
            raise KeyError(f"no proposal {proposal_id}")
        if moved:
            return Transition(True, proposal)
        return Transition(False, proposal, why_not(proposal, digest=digest, now=now))


def why_not(proposal: Proposal, digest: str | None = None, now: float | None = None) -> str:
    """Why a proposal in its current state cannot be approved or executed, in words."""
    status = proposal.status
    by = f"by {proposal.decided_by} at {_when(proposal.decided_at)}"
    if status is ProposalStatus.PROPOSED and digest is not None and digest != proposal.digest:
        return "the action changed since it was shown; approve the current version"
    if status is ProposalStatus.EXPIRED or (
        status is ProposalStatus.PROPOSED and now is not None and proposal.expires_at <= now
    ):
        return f"the proposal expired at {_when(proposal.expires_at)}; ask Medic to propose again"
    if status in (ProposalStatus.SUCCEEDED, ProposalStatus.FAILED):
        return (
            f"already executed by {proposal.decided_by} at {_when(proposal.started_at)} "
            f"({status.value}: {proposal.outcome})"
        )
    if status is ProposalStatus.EXECUTING:
        return f"already being executed by {proposal.decided_by} since {_when(proposal.started_at)}"
    if status is ProposalStatus.APPROVED:
        return f"already approved {by}"
    if status is ProposalStatus.REJECTED:
        return f"already rejected {by}"
    if status is ProposalStatus.REFUSED:
        return proposal.refusal
    if status is ProposalStatus.WITHDRAWN:
        return f"withdrawn at {_when(proposal.decided_at)}: {proposal.outcome}"
    return f"the proposal is {status.value}"


def _last_start(session: Session, action: Action, cluster: str) -> float | None:
    return session.scalar(
        select(func.max(_ProposalRow.started_at)).where(
            _ProposalRow.tool == action.tool,
            _ProposalRow.namespace == action.namespace,
            _ProposalRow.name == action.name,
            _ProposalRow.cluster == cluster,
            _ProposalRow.status.in_([ProposalStatus.EXECUTING, ProposalStatus.SUCCEEDED]),
        )
    )


def _lock_target(session: Session, key: str, now: float) -> None:
    """Write the target's lock row (creating it the first time); the write holds it until the
    transaction ends. Two first-timers race on the primary key: the loser's insert fails after
    the winner commits, and it then updates the row like everyone after it."""
    lock = update(_TargetLockRow).where(_TargetLockRow.key == key).values(locked_at=now)
    if session.execute(lock).rowcount == 1:  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():
            session.add(_TargetLockRow(key=key, locked_at=now))
    except IntegrityError:
        session.execute(lock)


def _add_missing_columns(engine: Engine) -> None:
    """Columns added since a data directory was created (nullable or defaulted), so an existing
    ``.medic`` keeps working without a migration tool."""
    existing = {c["name"] for c in inspect(engine).get_columns(_ProposalRow.__tablename__)}
    added = {
        "requested_by": "VARCHAR(128) DEFAULT 'medic' NOT NULL",
        "cluster": "VARCHAR(256) DEFAULT '' NOT NULL",
        "started_at": "FLOAT",
    }
    with engine.begin() as conn:
        for name, ddl in added.items():
            if name not in existing:
                conn.execute(
                    text(f"ALTER TABLE {_ProposalRow.__tablename__} ADD COLUMN {name} {ddl}")
                )


def _to_proposal(row: _ProposalRow) -> Proposal:
    return Proposal(
        id=row.id,
        incident_id=row.incident_id,
        action=Action(row.tool, row.namespace, row.name, json.loads(row.params)),
        digest=row.digest,
        status=ProposalStatus(row.status),
        source=row.source,
        requested_by=row.requested_by,
        cluster=row.cluster,
        rationale=row.rationale,
        preview=row.preview,
        recipe=json.loads(row.recipe),
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=row.outcome,
    )
