"""What decisions lead to, in the thread: a click on Approve or Reject decided by the flow, and
actions a stopped process interrupted, settled at the next start. Each is written to the
incident's timeline and its diagnosis message; an action that succeeded is then verified."""

from __future__ import annotations

from collections.abc import Callable

from bot.flow import IncidentFlow, Outcome
from bot.slack import blocks
from bot.slack.decisions import SlackUser
from bot.slack.metrics import BotMetrics
from bot.slack.poster import ThreadPoster
from bot.slack.thread_store import ThreadStore
from tools.actions import ToolStatus
from tools.errors import StateUnavailableError
from tools.proposals import ProposalStatus


class DecisionOutcomes:
    def __init__(
        self,
        *,
        flow: IncidentFlow,
        store: ThreadStore,
        poster: ThreadPoster,
        metrics: BotMetrics,
        verify: Callable[[str], None],
    ) -> None:
        """``verify`` requests the verification of an incident whose action succeeded."""
        self.flow = flow
        self.store = store
        self.poster = poster
        self.metrics = metrics
        self._verify = verify

    def decide(
        self, approve: bool, proposal_id: str, user: SlackUser, digest: str = ""
    ) -> Outcome | None:
        """Approve (and execute once) or reject; None when there is no such proposal. A refusal
        is for the clicker's eyes only; when the guard stopped an approved action as it was to
        run (cooldown, a changed policy) the proposal is refused and the thread shows it."""
        outcome = self.flow.decide(proposal_id, user.principal, approve=approve, digest=digest)
        if outcome is None:
            return None
        try:
            self._show(outcome, approve, user)
        except StateUnavailableError as exc:
            raise exc.after_recording() from exc
        return outcome

    def _show(self, outcome: Outcome, approve: bool, user: SlackUser) -> None:
        """The decision in the incident's timeline and its diagnosis message."""
        if outcome.result.status is ToolStatus.REFUSED:
            if outcome.proposal.status is ProposalStatus.REFUSED:
                self.poster.refresh_diagnosis(outcome.proposal.incident_id)
            return
        proposal = outcome.proposal
        now = self.flow.clock.now()
        verb = "approved" if approve else "rejected"
        self.store.record(proposal.incident_id, "decision", f"{verb} by {user.id}: "
                          f"{proposal.preview}", now)  # fmt: skip
        if approve:
            self.store.record(
                proposal.incident_id, "action", f"{outcome.result.status.value}: "
                f"{outcome.result.summary}", now,
            )  # fmt: skip
        self.metrics.proposals.labels(proposal.status.value).inc()
        self.poster.refresh_diagnosis(proposal.incident_id)
        if proposal.status is ProposalStatus.SUCCEEDED:
            self._verify(proposal.incident_id)

    def settle_interrupted(self, after_seconds: float) -> int:
        """Settle the actions a stopped process interrupted and say in each one's thread what
        its target shows; returns how many."""
        settled = self.flow.settle_interrupted(after_seconds)
        now = self.flow.clock.now()
        for done in settled:
            proposal = done.proposal
            self.store.record(proposal.incident_id, "action", f"{proposal.status.value} "
                              f"(interrupted): {done.finding}", now)  # fmt: skip
            self.metrics.proposals.labels(proposal.status.value).inc()
            self.poster.refresh_diagnosis(proposal.incident_id)
            message = blocks.interrupted_message(proposal, done.finding, done.ran_now)
            self.poster.reply_to(proposal.incident_id, message)
            if proposal.status is ProposalStatus.SUCCEEDED:
                self._verify(proposal.incident_id)
        return len(settled)
