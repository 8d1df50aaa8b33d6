"""The guarded path from an intended action to its result, shared by every entry point: Slack
buttons, slash commands, the CLI, the planner, LangChain tools and auto-run rules.

propose: the guard checks the action; an allowed one gets a dry-run preview and waits for
approval (or runs at once when an auto-run rule covers it); a refused one is recorded with the
rule that refused it. approve: the guard checks the approver (approver lists, two-person rule),
the store moves proposed -> approved atomically, bound to the digest of what was shown, and the
executor runs it exactly once. Every step is written to the audit log, each change of a proposal
in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.actions import (
    DRY_RUN_FAILED,
    INTERRUPTED,
    NOT_FOUND,
    UNREACHABLE,
    Action,
    Principal,
    ToolResult,
    ToolStatus,
)
from tools.audit import AuditLog
from tools.backends import Backends
from tools.catalog import TOOLS, ToolContext
from tools.clock import Clock
from tools.errors import (
    DependencyUnavailableError,
    StateUnavailableError,
    TargetNotFoundError,
    ToolError,
    TransientError,
)
from tools.executor import Executor
from tools.guard import Decision, Guard
from tools.proposals import Proposal, ProposalStatus, ProposalStore
from tools.reconcile import observe

AUTO_RUN = Principal("policy:auto_run")
CLUSTER_RULE = "cluster"


def other_cluster(proposal: Proposal, guard: Guard) -> Decision | None:
    """The refusal of ``proposal`` by the workflow of ``guard``'s cluster when the proposal was
    made for another cluster of the map (bound at creation, like its action's digest); None when
    it is this one's, or when there is no map (one unnamed cluster)."""
    cluster = guard.cluster_name
    if not guard.bound or proposal.cluster == cluster:
        return None
    return Decision.refuse(
        CLUSTER_RULE,
        f"proposal {proposal.id} is for cluster {proposal.cluster or 'unnamed'}, not "
        f"{cluster}; it can only be approved and run there",
    )


RECONCILER = "medic:reconcile"


@dataclass(frozen=True)
class Outcome:
    """What happened to a proposal when someone (or a rule) decided on it."""

    proposal: Proposal
    result: ToolResult


@dataclass(frozen=True)
class Settled:
    """An action interrupted by a stop, settled: the proposal as it is now and what was found
    (or, for an approval that never started, what running it now did)."""

    proposal: Proposal
    finding: str
    ran_now: bool = False  # an approval that had not started, carried out by this call


class RemediationWorkflow:
    def __init__(
        self,
        *,
        proposals: ProposalStore,
        guard: Guard,
        backends: Backends,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self.proposals = proposals
        self.guard = guard
        self.backends = backends
        self.clock = clock
        self.audit = audit
        self.executor = Executor(proposals, guard, backends, clock, audit)

    @property
    def cluster(self) -> str:
        """The cluster these backends act on (the guard's name for it): every proposal made
        here is bound to it, and only proposals bound to it are approved or run here."""
        return self.guard.cluster_name

    def check(self, action: Action) -> Decision:
        return self.guard.check(action, self.clock.now())

    def pinned(self, action: Action) -> Action:
        """``action`` with what it leaves to be resolved written in (promote_model's previous
        version), as it will be shown, approved and run."""
        spec = TOOLS.get(action.tool)
        return spec.pinned(self.backends, action) if spec else action

    def dry_run(self, action: Action, requested_by: str) -> ToolResult:
        """What the action would do, asked of the backend without changing anything."""
        action = self.pinned(action)
        decision = self.check(action)
        preview = self._preview(action, requested_by) if decision.allowed else None
        if preview is not None and preview.status is not ToolStatus.DRY_RUN:
            decision = _not_done(preview)
        self._log(requested_by, "dry_run", action, decision, preview.summary if preview else "")
        if not decision.allowed:
            return ToolResult(ToolStatus.REFUSED, decision.text, {"rule": decision.rule})
        assert preview is not None
        return preview

    def read(self, action: Action, requested_by: str) -> ToolResult:
        """Run a read-only helper (deployment status, recent rollouts, pod restarts)."""
        if action.tool in TOOLS and not TOOLS[action.tool].read_only:
            return ToolResult(ToolStatus.REFUSED, f"{action.tool} changes things; propose it")
        decision = self.check(action)
        if not decision.allowed:
            return ToolResult(ToolStatus.REFUSED, decision.text, {"rule": decision.rule})
        return self._preview(action, requested_by)

    def propose(
        self,
        incident_id: str,
        action: Action,
        *,
        requested_by: str,
        source: str,
        rationale: str = "",
        recipe: dict[str, Any] | None = None,
        rank: int = 0,
    ) -> Outcome:
        """Record ``action`` as a proposal after the guard and a dry run; auto-run it if a rule
        allows. The result says what is next: approval_required, refused, or the auto-run's."""
        now = self.clock.now()
        action = self.pinned(action)
        decision = self.check(action)
        preview = self._preview(action, requested_by) if decision.allowed else None
        if preview is not None and preview.status is not ToolStatus.DRY_RUN:
            decision = _not_done(preview)
        refused = decision.refusal
        event = "refused" if refused else "proposed"
        shown = preview.summary if preview and not refused else ""
        if shown and self.guard.bound:  # several clusters: the approver sees which one
            shown = f"in cluster {self.cluster}: {shown}"
        proposal = self.proposals.create(
            incident_id,
            action,
            source=source,
            rationale=rationale,
            requested_by=requested_by,
            cluster=self.cluster,
            preview=shown,
            recipe=recipe or {},
            now=now,
            ttl_seconds=self.guard.policy.approval_ttl_seconds,
            rank=rank,
            refused_because=refused,
            then=self.audit.entry(
                at=now, actor=requested_by, event=event, decision=decision.text, result=shown
            ),
        )
        if refused:
            return Outcome(
                proposal, ToolResult(ToolStatus.REFUSED, decision.text, {"rule": decision.rule})
            )
        if self.guard.auto_runs(action):
            return self._approve_and_run(proposal, AUTO_RUN, proposal.digest, checked=True)
        return Outcome(
            proposal,
            ToolResult(
                ToolStatus.APPROVAL_REQUIRED,
                f"proposal {proposal.id}: {proposal.preview} - waiting for approval",
                {"proposal_id": proposal.id, "digest": proposal.digest},
            ),
        )

    def approve(
        self,
        proposal_id: str,
        approver: Principal | str,
        digest: str,
        groups: Iterable[str] = (),
    ) -> Outcome:
        """``approver`` (a Slack user id with their user groups, or a CLI user) approves exactly
        what was shown (``digest``); it runs once. A refusal's text is addressed to the approver."""
        who = Principal.of(approver, groups)
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise ToolError(f"no proposal {proposal_id}")
        elsewhere = other_cluster(proposal, self.guard)
        if elsewhere is not None:
            self._log(who.id, "approval_refused", proposal.action, elsewhere, "", proposal_id)
            return Outcome(
                proposal,
                ToolResult(ToolStatus.REFUSED, elsewhere.text, {"rule": elsewhere.rule}),
            )
        return self._approve_and_run(proposal, who, digest, checked=False)

    def reject(
        self, proposal_id: str, user: Principal | str, groups: Iterable[str] = ()
    ) -> Outcome:
        """Turn a proposal down. Anyone who may approve it may reject it."""
        who = Principal.of(user, groups)
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise ToolError(f"no proposal {proposal_id}")
        allowed = other_cluster(proposal, self.guard) or self.guard.may_approve(
            proposal.action, "", who
        )
        if not allowed.allowed:
            self._log(who.id, "reject_refused", proposal.action, allowed, "", proposal_id)
            return Outcome(
                proposal, ToolResult(ToolStatus.REFUSED, allowed.reason, {"rule": allowed.rule})
            )
        now = self.clock.now()
        done = f"rejected by {who.id}"
        logged = self.audit.entry(
            at=now, actor=who.id, event="rejected", decision=allowed.text, result=done
        )
        transition = self.proposals.reject(proposal_id, who.id, now, then=logged)
        status = ToolStatus.SUCCEEDED if transition.ok else ToolStatus.REFUSED
        return Outcome(transition.proposal, ToolResult(status, transition.reason or done))

    def withdraw(self, proposal_id: str, reason: str) -> Outcome:
        """Medic takes back a pending proposal (e.g. its alert resolved). Nothing runs, so no
        approver is needed; the audit log records it."""
        now = self.clock.now()
        logged = self.audit.entry(
            at=now, actor="medic", event="withdrawn", decision=reason, result=reason
        )
        transition = self.proposals.withdraw(proposal_id, reason, now, then=logged)
        status = ToolStatus.SUCCEEDED if transition.ok else ToolStatus.REFUSED
        return Outcome(transition.proposal, ToolResult(status, transition.reason or reason))

    def settle_interrupted(self, after_seconds: float, *, only_own: bool = False) -> list[Settled]:
        """Settle what a stopped process left behind (``tools.reconcile``): executions running
        for longer than ``after_seconds`` are judged from their target's state, never run again;
        approvals that never started run now if still valid, else are refused. Returns what was
        settled by this call (another replica may settle some first). ``only_own``: only the
        proposals bound to this workflow's cluster (with several clusters, each settles its
        own)."""
        now = self.clock.now()
        settled = []
        for proposal in self.proposals.interrupted(now - after_seconds):
            if only_own and proposal.cluster != self.cluster:
                continue  # judged by the workflow of its own cluster, from that cluster's state
            if proposal.status is ProposalStatus.APPROVED:
                done = self._carry_out(proposal, now)
            else:
                done = self._judge(proposal, now)
            if done is not None:
                settled.append(done)
        return settled

    def _judge(self, proposal: Proposal, now: float) -> Settled | None:
        observed = observe(self.backends, proposal)
        if observed is None or proposal.started_at is None:
            return None
        logged = self.audit.entry(
            at=now,
            actor=RECONCILER,
            event="reconciled",
            decision="interrupted execution, judged from the target's state; not run again",
            result=f"{observed.status.value}: {observed.text}",
        )
        moved = self.proposals.settle(
            proposal.id,
            proposal.started_at,
            observed.status,
            f"interrupted; {observed.text}",
            now,
            then=logged,
        )
        return Settled(moved.proposal, observed.text) if moved.ok else None

    def _carry_out(self, proposal: Proposal, now: float) -> Settled | None:
        if proposal.cluster != self.cluster:
            return None
        if proposal.expires_at > now:
            result = self.executor.execute(proposal.id)
            final = self.proposals.get(proposal.id)
            assert final is not None
            if result.status is ToolStatus.REFUSED and final.status is not ProposalStatus.REFUSED:
                return None  # another process is carrying it out
            return Settled(final, result.summary, ran_now=True)
        reason = (
            f"{INTERRUPTED}: approved by {proposal.decided_by}, but Medic stopped before running "
            "it and the approval has expired; ask for a new proposal"
        )
        logged = self.audit.entry(
            at=now, actor=RECONCILER, event="refused", decision=reason, result="not executed"
        )
        moved = self.proposals.refuse_approved(proposal.id, reason, now, then=logged)
        return Settled(moved.proposal, moved.proposal.refusal) if moved.ok else None

    def _approve_and_run(
        self, proposal: Proposal, who: Principal, digest: str, *, checked: bool
    ) -> Outcome:
        action = proposal.action
        if not checked:
            allowed = self.guard.may_approve(action, proposal.requested_by, who)
            if not allowed.allowed:
                self._log(who.id, "approval_refused", action, allowed, "", proposal.id)
                return Outcome(
                    proposal,
                    ToolResult(ToolStatus.REFUSED, allowed.reason, {"rule": allowed.rule}),
                )
        else:
            allowed = Decision.allow("auto_run rule of the policy")
        now = self.clock.now()
        logged = self.audit.entry(at=now, actor=who.id, event="approved", decision=allowed.text)
        transition = self.proposals.approve(proposal.id, who.id, digest, now, then=logged)
        if not transition.ok:
            return Outcome(transition.proposal, ToolResult(ToolStatus.REFUSED, transition.reason))
        try:
            result = self.executor.execute(proposal.id)
            final = self.proposals.get(proposal.id)
        except StateUnavailableError as exc:
            # The approval is stored: the interrupted rest is settled by the reconciler.
            raise exc.after_recording() from exc
        assert final is not None
        return Outcome(final, result)

    def _preview(self, action: Action, requested_by: str) -> ToolResult:
        context = ToolContext(self.backends, self.clock.now(), requested_by)
        try:
            return TOOLS[action.tool].run(context, action, True)
        except DependencyUnavailableError as exc:  # says itself what could not be reached
            return ToolResult(ToolStatus.FAILED, str(exc), {"rule": UNREACHABLE})
        except TransientError as exc:  # down, timed out, overloaded: try again later
            return ToolResult(
                ToolStatus.FAILED,
                f"the dry run of {action.tool} failed: {exc}",
                {"rule": UNREACHABLE},
            )
        except TargetNotFoundError as exc:  # what the action names (a model's version) is not there
            return ToolResult(ToolStatus.FAILED, str(exc), {"rule": NOT_FOUND})
        except ToolError as exc:
            return ToolResult(ToolStatus.FAILED, f"the dry run of {action.tool} failed: {exc}")

    def _log(
        self,
        actor: str,
        event: str,
        action: Action,
        decision: Decision,
        result: str,
        proposal_id: str = "",
    ) -> None:
        self.audit.record(
            action,
            at=self.clock.now(),
            actor=actor,
            event=event,
            decision=decision.text,
            result=result,
            proposal_id=proposal_id,
            cluster=self.cluster,
        )


def _not_done(preview: ToolResult) -> Decision:
    """A dry run that did not pass, as the refusal every front end shows: "not done: ..." - a
    dependency down, something named that does not exist, or the tool's own failure - never
    the policy's verdict (tools.actions.NOT_DONE_RULES)."""
    return Decision.refuse(str(preview.details.get("rule") or DRY_RUN_FAILED), preview.summary)
