"""Proposals and their state machine, persisted with SQLAlchemy.

proposed -> approved -> executing -> succeeded | failed | unknown, or proposed -> rejected |
expired | withdrawn; ``refused`` records a proposal the guard turned down. ``unknown`` is an
execution that was interrupted (a crash, a kill) and whose effect the target's state could not
tell; like succeeded and failed it is final: Medic never runs an action twice.

Every transition is one conditional UPDATE (``... WHERE id = ? AND status = ?``), which SQLite and
PostgreSQL both execute atomically, so a double click, a retried request, two threads or two bot
processes approving the same proposal change it once; the loser is told who won and when. Each
transition is one transaction, retried on transient database errors (:mod:`tools.transactions`),
and writes a claim token: an attempt retried after a commit whose answer was lost recognises its
own earlier success instead of reporting a lost race. Whether a proposal's time to approve ran out
is judged, with real time, by the database's clock alone (``tools.schema.clock``): written as the
database's time plus the TTL, compared with the database's time in the same conditional UPDATE,
so replicas whose clocks disagree agree on it. The audit entry of a transition (``then``)
is written in the same transaction, so neither exists without the other. Starting an execution
also takes a per-target lock row, so two *different* proposals for the same tool and workload
cannot both pass the cooldown by starting at the same moment.

(About 500 lines, over the house's 400, and ``ProposalStore`` over 250, on purpose: every
transition follows the one fencing pattern above - conditional UPDATE, claim token, audit entry in
the same transaction - and keeping all of them beside it is what lets a reader check that each
one does.)
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Float,
    Integer,
    String,
    Text,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from tools.actions import NOT_DONE_RULES, Action, ToolResult
from tools.guard import cooldown_subject
from tools.schema import Base, database_now, read_database_now, record_from
from tools.schema.fit import Clipped
from tools.transactions import transaction


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
    UNKNOWN = "unknown"


# An execution ended: it ran, it did not, or (interrupted) nobody can tell.
EXECUTED = (ProposalStatus.SUCCEEDED, ProposalStatus.FAILED, ProposalStatus.UNKNOWN)


class _ProposalRow(Base):
    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    tool: Mapped[str] = mapped_column(String(64))
    namespace: Mapped[str] = mapped_column(String(253))
    name: Mapped[str] = mapped_column(String(253))
    params: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(Clipped(256))
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
    # the token of the last transition: a retried attempt finds its own earlier success by it
    claim: Mapped[str] = mapped_column(String(32), default="")
    # what the execution's dry run said the write would do (JSON), for settling an interruption
    expected: Mapped[str] = mapped_column(Text, default="{}")
    # what on the target the cooldown counts per (tools.guard.cooldown_subject): the model of
    # promote_model and retrain; '' for the tools whose cooldown is the target's
    subject: Mapped[str] = mapped_column(String(256), default="", server_default="")


class _TargetLockRow(Base):
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
    expected: dict[str, Any] = field(default_factory=dict)  # what the execution's dry run said

    @property
    def refusal(self) -> str:
        """Why a refused proposal was refused, in words (its outcome is ``rule: reason``)."""
        rule, _, reason = self.outcome.partition(": ")
        if rule in NOT_DONE_RULES:
            return f"not done: {reason}"
        return f"refused by policy: {self.outcome}"


@dataclass(frozen=True)
class Transition:
    """The answer to a request to move a proposal: did it move, and if not, why not."""

    ok: bool
    proposal: Proposal
    reason: str = ""


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts or 0, UTC).strftime("%H:%M:%S UTC")


# Runs inside a transition's transaction when (and only when) it moved: the audit entry.
OnMoved = Callable[[Session, Proposal], None]


def _token() -> str:
    """A transition's claim token: made once per call, outside the transaction that may be
    retried (hence each public transition and its ``@transaction`` helper)."""
    return uuid.uuid4().hex


class ProposalStore:
    def __init__(self, engine: Engine, *, database_clock: bool = False) -> None:
        """``database_clock``: judge expiry by the database's clock, the one every replica
        shares (real time: by each replica's own, a proposal written by a replica behind and
        clicked on one ahead was refused early, and the other way round approved late); else by
        the ``now`` callers pass (virtual time - the simulated cluster, tests - is one clock)."""
        self._engine = engine
        self._database_clock = database_clock

    def _now(self, now: float) -> ColumnElement[float]:
        """The time expiry is judged at, as SQL: the database's, or the caller's ``now``."""
        return database_now() if self._database_clock else literal(now, Float)

    def _expires(self, session: Session, now: float, ttl_seconds: float) -> float:
        return (read_database_now(session) if self._database_clock else now) + ttl_seconds

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
        then: OnMoved | None = None,
    ) -> Proposal:
        """Record a proposal; ``rank`` orders the proposals of one plan (0 = best)."""
        values = dict(
            id=uuid.uuid4().hex[:12],
            incident_id=incident_id,
            tool=action.tool,
            namespace=action.namespace,
            name=action.name,
            params=json.dumps(action.params, sort_keys=True),
            subject=cooldown_subject(action),
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
            outcome=refused_because or "",
        )
        return self._insert(values, now, ttl_seconds, then)

    @transaction
    def _insert(
        self, values: dict[str, Any], now: float, ttl_seconds: float, then: OnMoved | None
    ) -> Proposal:
        with Session(self._engine) as session, session.begin():
            existing = session.get(_ProposalRow, values["id"])
            if existing is not None:  # an earlier attempt committed, its answer was lost
                return _to_proposal(existing)
            expires_at = self._expires(session, now, ttl_seconds)
            row = _ProposalRow(**values, expires_at=expires_at, claim="", expected="{}")
            session.add(row)
            session.flush()
            proposal = _to_proposal(row)
            if then is not None:
                then(session, proposal)
            return proposal

    @transaction
    def expire_due(self, now: float, limit: int = 100) -> list[Proposal]:
        """Pending proposals whose time to approve ran out by ``now`` (by the database's clock
        when expiry is judged by it), moved to expired - the ones this call moved (each by the
        conditional UPDATE a click's approval makes, so replicas sweeping at once move each
        once); at most ``limit`` a call."""
        with Session(self._engine) as session, session.begin():
            due = session.scalars(
                select(_ProposalRow.id)
                .where(
                    _ProposalRow.status == ProposalStatus.PROPOSED,
                    _ProposalRow.expires_at <= self._now(now),
                )
                .order_by(_ProposalRow.expires_at)
                .limit(limit)
            ).all()
            moved = [
                pid
                for pid in due
                if _update(
                    session,
                    pid,
                    ProposalStatus.PROPOSED,
                    "",
                    (_ProposalRow.expires_at <= self._now(now),),
                    status=ProposalStatus.EXPIRED,
                )
            ]
            rows = [session.get(_ProposalRow, pid, populate_existing=True) for pid in moved]
            return [_to_proposal(r) for r in rows if r is not None]

    @transaction
    def get(self, proposal_id: str) -> Proposal | None:
        with Session(self._engine) as session:
            row = session.get(_ProposalRow, proposal_id)
            return _to_proposal(row) if row else None

    @transaction
    def for_incident(self, incident_id: str) -> list[Proposal]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_ProposalRow)
                .where(_ProposalRow.incident_id == incident_id)
                .order_by(_ProposalRow.created_at, _ProposalRow.rank)
            )
            return [_to_proposal(r) for r in rows]

    @transaction
    def last_execution(self, action: Action, cluster: str) -> float | None:
        """When the same tool last started on the same target in ``cluster`` - for the model
        tools, on the same model there (``tools.guard.cooldown_subject``) - for cooldowns."""
        with Session(self._engine) as session:
            return _last_start(session, action, cluster)

    @transaction
    def interrupted(self, before: float) -> list[Proposal]:
        """Executions started before ``before`` and still running, and approvals given before it
        that never started: what a process that died left behind, oldest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_ProposalRow)
                .where(
                    ((_ProposalRow.status == ProposalStatus.EXECUTING)
                     & (_ProposalRow.started_at < before))
                    | ((_ProposalRow.status == ProposalStatus.APPROVED)
                       & (_ProposalRow.decided_at < before))
                )
                .order_by(_ProposalRow.decided_at)
            )  # fmt: skip
            return [_to_proposal(r) for r in rows]

    def approve(
        self,
        proposal_id: str,
        user: str,
        digest: str,
        now: float,
        then: OnMoved | None = None,
    ) -> Transition:
        """Approve what was shown: the digest must match the stored action, before it expires (an
        expired proposal becomes ``expired``)."""
        return self._approve(proposal_id, user, digest, now, then, _token())

    @transaction
    def _approve(
        self,
        proposal_id: str,
        user: str,
        digest: str,
        now: float,
        then: OnMoved | None,
        token: str,
    ) -> Transition:
        with Session(self._engine) as session, session.begin():
            fresh = _update(
                session,
                proposal_id,
                ProposalStatus.PROPOSED,
                token,
                (_ProposalRow.digest == digest, _ProposalRow.expires_at > self._now(now)),
                status=ProposalStatus.APPROVED,
                decided_by=user,
                decided_at=now,
            )
            if not fresh:
                _update(
                    session,
                    proposal_id,
                    ProposalStatus.PROPOSED,
                    token="",
                    where=(_ProposalRow.expires_at <= self._now(now),),
                    status=ProposalStatus.EXPIRED,
                )
            return _read_back(session, proposal_id, fresh, token, then, digest=digest, now=now)

    def reject(
        self, proposal_id: str, user: str, now: float, then: OnMoved | None = None
    ) -> Transition:
        return self._move(
            proposal_id,
            ProposalStatus.PROPOSED,
            then,
            _token(),
            {"status": ProposalStatus.REJECTED, "decided_by": user, "decided_at": now},
            now=now,
        )

    def withdraw(
        self, proposal_id: str, reason: str, now: float, then: OnMoved | None = None
    ) -> Transition:
        """proposed -> withdrawn: Medic takes a pending proposal back (its alert resolved)."""
        values = {"status": ProposalStatus.WITHDRAWN, "decided_by": "medic", "decided_at": now,
                  "outcome": reason}  # fmt: skip
        return self._move(proposal_id, ProposalStatus.PROPOSED, then, _token(), values, now=now)

    def begin_execution(
        self,
        proposal_id: str,
        now: float,
        may_start: Callable[[float | None], str | None] = lambda _last: None,
        *,
        expected: dict[str, Any] | None = None,
        then: OnMoved | None = None,
    ) -> Transition:
        """approved -> executing; only one caller ever wins. ``may_start`` gets when the same
        tool last started on the same target (another proposal) and returns a refusal (``rule:
        reason``), or None; a refused proposal becomes ``refused``, so it does not hang approved.
        ``expected`` is what the dry run said the write will do (kept for settling an
        interruption); ``then`` writes the audit entry of the start or the refusal.

        The target's lock row is written first, so on PostgreSQL a second start on the same
        target waits for this transaction (and on SQLite for the database's write lock) and then
        sees this start: a cooldown cannot be passed by two proposals at once.
        """
        return self._begin(proposal_id, now, may_start, expected or {}, then, _token())

    @transaction
    def _begin(
        self,
        proposal_id: str,
        now: float,
        may_start: Callable[[float | None], str | None],
        expected: dict[str, Any],
        then: OnMoved | None,
        token: str,
    ) -> Transition:
        with Session(self._engine) as session, session.begin():
            row = session.get(_ProposalRow, proposal_id)
            if row is None:
                raise KeyError(f"no proposal {proposal_id}")
            action = _to_proposal(row).action
            _lock_target(session, _lock_key(row, action), now)
            refusal = may_start(_last_start(session, action, row.cluster))
            values: dict[str, Any] = (
                {"status": ProposalStatus.EXECUTING, "started_at": now,
                 "expected": json.dumps(expected, sort_keys=True)}
                if refusal is None
                else {"status": ProposalStatus.REFUSED, "finished_at": now, "outcome": refusal}
            )  # fmt: skip
            fresh = _update(session, proposal_id, ProposalStatus.APPROVED, token, (), **values)
            moved = _read_back(session, proposal_id, fresh, token, then)
        started = moved.ok and moved.proposal.status is ProposalStatus.EXECUTING
        return Transition(started, moved.proposal, "" if started else why_not(moved.proposal))

    def refuse_approved(
        self, proposal_id: str, reason: str, now: float, then: OnMoved | None = None
    ) -> Transition:
        """approved -> refused: the guard turned the action down when it was about to run (the
        policy or the cluster changed after the approval)."""
        values = {"status": ProposalStatus.REFUSED, "finished_at": now, "outcome": reason}
        return self._move(proposal_id, ProposalStatus.APPROVED, then, _token(), values)

    def finish(
        self, proposal_id: str, result: ToolResult, now: float, then: OnMoved | None = None
    ) -> Proposal:
        status = ProposalStatus.SUCCEEDED if result.ok else ProposalStatus.FAILED
        values = {"status": status, "finished_at": now, "outcome": result.summary}
        return self._move(proposal_id, ProposalStatus.EXECUTING, then, _token(), values).proposal

    def settle(
        self,
        proposal_id: str,
        started_at: float,
        status: ProposalStatus,
        outcome: str,
        now: float,
        then: OnMoved | None = None,
    ) -> Transition:
        """executing -> succeeded | failed | unknown for an interrupted execution (the one that
        started at ``started_at``), from what its target shows now."""
        assert status in EXECUTED
        values = {"status": status, "finished_at": now, "outcome": outcome}
        return self._move(
            proposal_id,
            ProposalStatus.EXECUTING,
            then,
            _token(),
            values,
            where=(_ProposalRow.started_at == started_at,),
        )

    @transaction
    def _move(
        self,
        proposal_id: str,
        source: ProposalStatus,
        then: OnMoved | None,
        token: str,
        values: dict[str, Any],
        *,
        where: tuple[Any, ...] = (),
        now: float | None = None,
    ) -> Transition:
        with Session(self._engine) as session, session.begin():
            fresh = _update(session, proposal_id, source, token, where, **values)
            return _read_back(session, proposal_id, fresh, token, then, now=now)


def _update(
    session: Session,
    proposal_id: str,
    source: ProposalStatus,
    token: str,
    where: tuple[Any, ...],
    **values: Any,
) -> bool:
    """The conditional UPDATE of one transition; True when it moved the row."""
    stmt = (
        update(_ProposalRow)
        .where(_ProposalRow.id == proposal_id, _ProposalRow.status == source, *where)
        .values(claim=token, **values)
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _read_back(
    session: Session,
    proposal_id: str,
    fresh: bool,
    token: str,
    then: OnMoved | None,
    digest: str | None = None,
    now: float | None = None,
) -> Transition:
    """Read the proposal back in the transaction that moved it (or did not): moved by this call
    when its UPDATE did it now, or when an earlier attempt of the same call did (the claim)."""
    row = session.get(_ProposalRow, proposal_id, populate_existing=True)
    if row is None:
        raise KeyError(f"no proposal {proposal_id}")
    proposal = _to_proposal(row)
    if fresh and then is not None:
        then(session, proposal)
    if fresh or (token and row.claim == token):
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
    if status in EXECUTED:
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
            _ProposalRow.subject == cooldown_subject(action),
            _ProposalRow.cluster == cluster,
            # an interrupted execution that may have taken effect counts as one that did
            _ProposalRow.status.in_(
                [ProposalStatus.EXECUTING, ProposalStatus.SUCCEEDED, ProposalStatus.UNKNOWN]
            ),
        )
    )


def _lock_key(row: _ProposalRow, action: Action) -> str:
    """The lock row of a start: the cluster, tool and workload - and the model for the model
    tools, whose cooldown counts per model - within the column's 800 characters (a longer key
    keeps its head and a digest of the whole)."""
    parts = (row.cluster, action.tool, action.namespace, action.name)
    key = "/".join(parts + ((row.subject,) if row.subject else ()))
    if len(key) <= 800:
        return key
    return f"{key[:700]}#{hashlib.sha256(key.encode()).hexdigest()}"


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


def _to_proposal(row: _ProposalRow) -> Proposal:
    return record_from(
        Proposal,
        row,
        action=Action(row.tool, row.namespace, row.name, json.loads(row.params)),
        status=ProposalStatus(row.status),
        recipe=json.loads(row.recipe),
        expected=json.loads(row.expected or "{}"),
    )
