"""The executor: the only caller of a backend's write methods.

It runs a proposal only if it is approved, the guard still allows it, and it wins the
approved -> executing transition. It asks the backend for a dry run (Kubernetes: server-side
``dryRun=All``) and only if that passes makes the real change. Backend errors become a failed
result, never an exception; a failed or interrupted execution is never re-run by itself (an
interrupted one is settled from its target's state by :mod:`tools.reconcile`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tools.actions import Action, ToolResult, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.catalog import TOOLS, ToolContext, ToolSpec
from tools.clock import Clock
from tools.errors import ToolError
from tools.guard import Guard
from tools.proposals import OnMoved, Proposal, ProposalStatus, ProposalStore, why_not


class Executor:
    def __init__(
        self,
        store: ProposalStore,
        guard: Guard,
        backends: Backends,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._store = store
        self._guard = guard
        self._backends = backends
        self._clock = clock
        self._audit = audit

    def execute(self, proposal_id: str) -> ToolResult:
        proposal = self._store.get(proposal_id)
        if proposal is None:
            return ToolResult(ToolStatus.REFUSED, f"no proposal {proposal_id}")
        if proposal.status is ProposalStatus.PROPOSED:
            return ToolResult(ToolStatus.APPROVAL_REQUIRED, "the proposal has not been approved")
        if proposal.status is not ProposalStatus.APPROVED:
            return ToolResult(ToolStatus.REFUSED, why_not(proposal))
        action = proposal.action
        now = self._clock.now()
        actor = proposal.decided_by or "unknown"
        if self._guard.bound and proposal.cluster != self._guard.cluster_name:
            # Bound at creation: these backends are another cluster's. Refused, left approved,
            # for its own cluster's executor (never run here).
            return ToolResult(
                ToolStatus.REFUSED,
                f"proposal {proposal_id} is for cluster {proposal.cluster or 'unnamed'}, not "
                f"{self._guard.cluster_name}; not executed here",
                {"rule": "cluster"},
            )
        decision = self._guard.check(action, now)
        if not decision.allowed:
            refused = self._entry(now, actor, "refused", decision.text, "not executed")
            self._store.refuse_approved(proposal_id, decision.refusal or "", now, then=refused)
            return ToolResult(ToolStatus.REFUSED, decision.text, {"rule": decision.rule})
        spec = TOOLS[action.tool]
        context = ToolContext(self._backends, now, f"medic for {actor}", proposal_id)
        # The dry run comes first: what it says the write will do is kept with the execution,
        # so an interrupted one can be settled from the target's state (tools/reconcile.py).
        preview: ToolResult | Exception
        try:
            preview = spec.run(context, action, True)
        except Exception as exc:  # reported as the execution's failure, once it has begun
            preview = exc
        cooldown = self._guard.cooldown
        started = self._store.begin_execution(
            proposal_id,
            now,
            lambda last: cooldown(action, last, now).refusal,
            expected=preview.details if isinstance(preview, ToolResult) else {},
            then=self._started(now, actor, decision.text),
        )
        if not started.ok:
            return ToolResult(ToolStatus.REFUSED, started.reason)
        result = self._write(spec, context, action, preview)
        finished = self._clock.now()
        event = "executed" if result.ok else "failed"
        done = self._entry(finished, actor, event, decision.text, result.summary)
        self._store.finish(proposal_id, result, finished, then=done)
        return result

    @staticmethod
    def _write(
        spec: ToolSpec, context: ToolContext, action: Action, preview: ToolResult | Exception
    ) -> ToolResult:
        """The real change, after a dry run that passed; any failure is a failed result."""
        try:
            if isinstance(preview, Exception):
                raise preview
            result = spec.run(context, action, False)
            return ToolResult(
                result.status, result.summary, {**result.details, "dry_run": preview.summary}
            )
        except ToolError as exc:
            return ToolResult(ToolStatus.FAILED, f"{action.tool} on {action.target} failed: {exc}")
        except Exception as exc:  # a bug must still leave a record, never a half-told story
            return ToolResult(
                ToolStatus.FAILED,
                f"{action.tool} on {action.target} failed unexpectedly: "
                f"{type(exc).__name__}: {exc}",
            )

    def _entry(self, at: float, actor: str, event: str, decision: str, result: str) -> OnMoved:
        return self._audit.entry(at=at, actor=actor, event=event, decision=decision, result=result)

    def _started(self, at: float, actor: str, decision: str) -> OnMoved:
        """The audit entry of an execution's start - or of the cooldown refusing it - written
        before the backend is touched: a crash after it still leaves the attempt on record."""
        started = self._entry(at, actor, "started", decision, "")

        def write(session: Session, proposal: Proposal) -> None:
            if proposal.status is ProposalStatus.EXECUTING:
                started(session, proposal)
            else:
                self._entry(at, actor, "refused", proposal.refusal, "not executed")(
                    session, proposal
                )

        return write
