"""What decisions lead to, in the thread: a click on Approve or Reject decided by the flow, and
actions a stopped process interrupted, settled at the next start. Each is written to the
incident's timeline and its diagnosis message; an action that succeeded is then verified."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import messages
from bot.flow import IncidentFlow, Outcome
from bot.slack import blocks
from bot.slack.decisions import SlackUser
from bot.slack.metrics import BotMetrics
from bot.slack.outbox import PostedMessage
from bot.slack.poster import ThreadPoster, diagnosis_ref
from bot.slack.thread_store import ThreadStore
from tools.actions import ToolResult, ToolStatus
from tools.errors import StateUnavailableError
from tools.proposals import Proposal, ProposalStatus

log = logging.getLogger(__name__)


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
        self,
        approve: bool,
        proposal_id: str,
        user: SlackUser,
        digest: str = "",
        clicked_in: PostedMessage | None = None,
    ) -> Outcome | None:
        """Approve (and execute once) or reject; None when there is no such proposal. A refusal
        is for the clicker's eyes only; when the guard stopped an approved action as it was to
        run (cooldown, a changed policy) the proposal is refused and the thread shows it.

        ``clicked_in`` is the message whose button was clicked: a decision counts only on the
        message where Medic showed that proposal (its incident's diagnosis), so a button value
        carried to another message, channel or workspace decides nothing."""
        proposal = self.flow.proposal(proposal_id)
        if proposal is None:
            return None
        if not self._shown_in(proposal, clicked_in):
            log.warning(
                "click by %s on %s for proposal %s, which that message does not show; refused",
                user.id[:32],
                clicked_in,
                proposal.id,
            )
            reason = messages.SLACK_NOT_THIS_MESSAGE.format(incident=proposal.incident_id)
            return Outcome(proposal, ToolResult(ToolStatus.REFUSED, reason))
        outcome = self.flow.decide(proposal_id, user.principal, approve=approve, digest=digest)
        if outcome is None:
            return None
        try:
            self._show(outcome, approve, user)
        except StateUnavailableError as exc:
            raise exc.after_recording() from exc
        return outcome

    def _shown_in(self, proposal: Proposal, clicked_in: PostedMessage | None) -> bool:
        """Whether ``clicked_in`` is the message Medic posted with ``proposal``'s buttons."""
        link = self.store.link_of(proposal.incident_id)
        if clicked_in is None or link is None or proposal.id not in link.proposal_ids:
            return False
        posted = self.poster.outbox.message(link.thread_key, diagnosis_ref(proposal.incident_id))
        return posted == clicked_in

    def _show(self, outcome: Outcome, approve: bool, user: SlackUser) -> None:
        """The decision in the incident's timeline and its diagnosis message."""
        if outcome.result.status is ToolStatus.REFUSED:
            # refused as it was to run, or found expired by this click (a clock that jumped, a
            # prompt left unanswered): everyone's message stops offering the buttons
            if outcome.proposal.status in (ProposalStatus.REFUSED, ProposalStatus.EXPIRED):
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

    def expire_due(self) -> int:
        """Take the buttons off the proposals whose time to approve ran out: each incident's
        diagnosis message shows them expired to everyone, without a click finding out first;
        returns how many."""
        expired = self.flow.expire_due()
        for incident_id in sorted({p.incident_id for p in expired}):
            self.poster.refresh_diagnosis(incident_id)
        return len(expired)

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
