"""The executor: the only caller of a backend's write methods.

It runs a proposal only if it is approved, the guard still allows it, and it wins the
approved -> executing transition; backend errors become a failed result, never an exception.
"""

from __future__ import annotations

from tools.actions import ToolResult, ToolStatus
from tools.backends import Backends
from tools.catalog import TOOLS
from tools.clock import Clock
from tools.errors import ToolError
from tools.guard import Guard
from tools.proposals import ProposalStatus, ProposalStore, why_not


class Executor:
    def __init__(
        self, store: ProposalStore, guard: Guard, backends: Backends, clock: Clock
    ) -> None:
        self._store = store
        self._guard = guard
        self._backends = backends
        self._clock = clock

    def execute(self, proposal_id: str) -> ToolResult:
        proposal = self._store.get(proposal_id)
        if proposal is None:
            return ToolResult(ToolStatus.REFUSED, f"no proposal {proposal_id}")
        if proposal.status is ProposalStatus.PROPOSED:
            return ToolResult(ToolStatus.APPROVAL_REQUIRED, "the proposal has not been approved")
        if proposal.status is not ProposalStatus.APPROVED:
            return ToolResult(ToolStatus.REFUSED, why_not(proposal))
        decision = self._guard.check(proposal.action)
        if not decision.allowed:
            return ToolResult(
                ToolStatus.REFUSED, f"refused by policy ({decision.rule}): {decision.reason}"
            )
        started = self._store.begin_execution(proposal_id)
        if not started.ok:
            return ToolResult(ToolStatus.REFUSED, started.reason)
        spec = TOOLS[proposal.action.tool]
        try:
            result = spec.run(self._backends, proposal.action)
        except ToolError as exc:
            result = ToolResult(ToolStatus.FAILED, f"{proposal.action.tool} failed: {exc}")
        self._store.finish(proposal_id, result, self._clock.now())
        return result
