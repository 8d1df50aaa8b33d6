"""The executor: the only caller of a backend's write methods.

It runs a proposal only if it is approved, the guard still allows it, and it wins the
approved -> executing transition. It then asks the backend for a dry run (Kubernetes: server-side
``dryRun=All``) and only if that passes makes the real change. Backend errors become a failed
result, never an exception; a failed or interrupted execution is never re-run by itself.
"""

from __future__ import annotations

from tools.actions import ToolResult, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.catalog import TOOLS, ToolContext
from tools.clock import Clock
from tools.errors import ToolError
from tools.guard import Guard
from tools.proposals import Proposal, ProposalStatus, ProposalStore, why_not


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
        decision = self._guard.check(action, now)
        if not decision.allowed:
            if self._store.refuse_approved(proposal_id, decision.refusal or "", now).ok:
                self._log_refusal(proposal, actor, decision.text, now)
            return ToolResult(ToolStatus.REFUSED, decision.text, {"rule": decision.rule})
        cooldown = self._guard.cooldown
        started = self._store.begin_execution(
            proposal_id, now, lambda last: cooldown(action, last, now).refusal
        )
        if not started.ok:
            if started.proposal.status is ProposalStatus.REFUSED:
                self._log_refusal(proposal, actor, started.reason, now)
            return ToolResult(ToolStatus.REFUSED, started.reason)
        spec = TOOLS[action.tool]
        context = ToolContext(self._backends, now, f"medic for {actor}", proposal_id)
        try:
            preview = spec.run(context, action, True)
            result = spec.run(context, action, False)
            result = ToolResult(
                result.status, result.summary, {**result.details, "dry_run": preview.summary}
            )
        except ToolError as exc:
            result = ToolResult(
                ToolStatus.FAILED, f"{action.tool} on {action.target} failed: {exc}"
            )
        except Exception as exc:  # a bug must still leave a record, never a half-told story
            result = ToolResult(
                ToolStatus.FAILED,
                f"{action.tool} on {action.target} failed unexpectedly: "
                f"{type(exc).__name__}: {exc}",
            )
        self._store.finish(proposal_id, result, self._clock.now())
        self._audit.append(
            at=self._clock.now(),
            actor=actor,
            event="executed" if result.ok else "failed",
            tool=action.tool,
            target=action.target,
            params=action.params,
            decision=decision.text,
            result=result.summary,
            proposal_id=proposal_id,
        )
        return result

    def _log_refusal(self, proposal: Proposal, actor: str, why: str, now: float) -> None:
        action = proposal.action
        self._audit.append(
            at=now,
            actor=actor,
            event="refused",
            tool=action.tool,
            target=action.target,
            params=action.params,
            decision=why,
            result="not executed",
            proposal_id=proposal.id,
        )
