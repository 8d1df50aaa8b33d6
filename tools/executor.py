"""The executor: the only caller of a backend's write methods.

It runs a proposal only if it is approved, the guard still allows it, and it wins the
approved -> executing transition. It asks the backend for a dry run (Kubernetes: server-side
``dryRun=All``) and only if that passes makes the real change. Backend errors become a failed
result, never an exception; a failed or interrupted execution is never re-run by itself (an
interrupted one is settled from its target's state by :mod:`tools.reconcile`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tools.actions import UNREACHABLE, Action, ToolResult, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.catalog import TOOLS, ToolContext, ToolSpec
from tools.clock import Clock
from tools.errors import DependencyUnavailableError, ToolError
from tools.guard import Guard
from tools.proposals import OnMoved, Proposal, ProposalStatus, ProposalStore, why_not
from tools.reconcile import observe

# The tools whose writes go to the model registry or pipeline, and whose interrupted writes
# tools.reconcile settles from it: a write that lost the registry half-way is settled, not failed.
REGISTRY_TOOLS = frozenset({"promote_model", "retrain"})
UNSURE = "unsure"  # the rule of a result whose write may or may not have taken
# What the registry, asked again, says of such a write (the reconciler's verdicts, in words).
SETTLED_AS = {
    ProposalStatus.SUCCEEDED: "done",
    ProposalStatus.FAILED: "not done",
    ProposalStatus.UNKNOWN: "unknown",
}


class _UnsureWriteError(Exception):
    """A registry write that may have taken before the registry stopped answering."""

    def __init__(self, error: DependencyUnavailableError) -> None:
        super().__init__(str(error))
        self.error = error


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
        if isinstance(preview, DependencyUnavailableError):
            # The model registry (or pipeline) down as the approved action was about to run:
            # nothing was sent, so it is "not done", as when it was proposed - not a failure.
            said = f"not done: {preview}"
            refused = self._entry(now, actor, "refused", said, "not executed")
            self._store.refuse_approved(proposal_id, f"{UNREACHABLE}: {preview}", now, then=refused)
            return ToolResult(ToolStatus.REFUSED, said, {"rule": UNREACHABLE})
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
        try:
            result = self._write(spec, context, action, preview)
        except _UnsureWriteError as unsure:
            return self._unsure(proposal_id, actor, decision.text, unsure.error)
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
        except DependencyUnavailableError as exc:
            if exc.may_have_applied and action.tool in REGISTRY_TOOLS:
                raise _UnsureWriteError(exc) from exc
            return ToolResult(ToolStatus.FAILED, f"{action.tool} on {action.target} failed: {exc}")
        except ToolError as exc:
            return ToolResult(ToolStatus.FAILED, f"{action.tool} on {action.target} failed: {exc}")
        except Exception as exc:  # a bug must still leave a record, never a half-told story
            return ToolResult(
                ToolStatus.FAILED,
                f"{action.tool} on {action.target} failed unexpectedly: "
                f"{type(exc).__name__}: {exc}",
            )

    def _unsure(
        self, proposal_id: str, actor: str, decision: str, error: DependencyUnavailableError
    ) -> ToolResult:
        """The registry stopped answering during the write: the alias may have moved, the run
        may have started. Asked again at once, what it shows settles the proposal (succeeded,
        not done, unknown); still away, the proposal stays executing for the reconciler, which
        settles it from the registry later (:mod:`tools.reconcile`) - never run again, never
        called failed on a guess. The audit says which."""
        now = self._clock.now()
        proposal = self._store.get(proposal_id)
        assert proposal is not None and proposal.started_at is not None
        action = proposal.action
        observed = observe(self._backends, proposal)
        if observed is None:
            said = (
                f"unknown: {error} during the write; whether it took is settled from the "
                "registry when it answers (reconcile), never run again"
            )
            self._audit.record(
                action,
                at=now,
                actor=actor,
                event="unknown",
                decision=decision,
                result=said,
                proposal_id=proposal_id,
                cluster=proposal.cluster,
            )
            return ToolResult(
                ToolStatus.FAILED, f"{action.tool} on {action.target}: {said}", {"rule": UNSURE}
            )
        verdict = SETTLED_AS.get(observed.status, observed.status.value)
        said = f"{verdict}: {error} during the write; it shows now: {observed.text}"
        done = self._entry(now, actor, "reconciled", decision, said)
        self._store.settle(proposal_id, proposal.started_at, observed.status, said, now, then=done)
        status = (
            ToolStatus.SUCCEEDED
            if observed.status is ProposalStatus.SUCCEEDED
            else ToolStatus.FAILED
        )
        return ToolResult(status, f"{action.tool} on {action.target}: {said}", {"rule": UNSURE})

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
