"""From findings to heads-ups: one thread per service while its heads-up is open (a later,
different finding is a reply in it; the same finding again is nothing new), at most
``max_per_hour`` new threads per channel per hour, nothing at all in quiet hours (see
:mod:`bot.watch.gate` for why they are dropped, not held). The rules are :func:`gate`'s."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot import messages
from bot.config.watch import QuietHours
from bot.slack.blocks import Message, note_message
from bot.slack.mrkdwn import markup
from bot.watch.checks import RightSizingCheck
from bot.watch.findings import WatchFinding
from bot.watch.gate import HOUR, Gate, gate, in_quiet_hours
from bot.watch.proposals import Proposed, WatchProposals
from bot.watch.render import headsup_message
from bot.watch.store import WatchStore

log = logging.getLogger(__name__)

# (thread key, channel, message, as the thread's root) -> queued for Slack
Deliver = Callable[[str, str, Message, bool], None]
# (thread key, channel, the finding's change as a proposal) -> its Approve/Reject in the thread
Offer = Callable[[str, str, Proposed], None]


@dataclass
class Published:
    """What became of one pass's findings: new threads, replies in open ones, and how many were
    held back by each rule."""

    threads: list[tuple[WatchFinding, str]] = field(default_factory=list)
    replies: list[tuple[WatchFinding, str]] = field(default_factory=list)
    held: Counter[str] = field(default_factory=Counter)
    proposals: list[Proposed] = field(default_factory=list)


class HeadsUps:
    def __init__(
        self,
        *,
        store: WatchStore,
        deliver: Deliver,
        channel: str,
        max_per_hour: int,
        quiet: QuietHours | None,
        rightsizing: RightSizingCheck | None = None,
        proposals: WatchProposals | None = None,
        offer: Offer | None = None,
    ) -> None:
        """``proposals`` and ``offer``: a finding's proposed change becomes an approvable
        proposal, offered in its heads-up thread (without them the change is only shown)."""
        self._store = store
        self._proposals = proposals
        self._offer = offer
        self._deliver = deliver
        self._channel = channel
        self._max = max_per_hour
        self._quiet = quiet
        self._rightsizing = rightsizing

    def publish(self, findings: Sequence[WatchFinding], now: float) -> Published:
        done = Published()
        for finding in findings:
            target = finding.target
            open_ = self._store.open_for(target, now)
            thread = open_[0].thread_key if open_ else None
            if thread is not None:
                self._store.seen(thread, now)  # found again: the thread stays open
            verdict = gate(
                already_open=any(h.finding == finding.key for h in open_ if h.thread_key == thread),
                # a reply in an open thread is no new thread: the hourly limit is for threads
                posted_last_hour=(
                    0 if thread else self._store.posted_since(self._channel, now - HOUR)
                ),
                max_per_hour=self._max,
                quiet=in_quiet_hours(self._quiet, now),
            )
            if verdict is not Gate.POST:
                done.held[verdict.value] += 1
                if verdict is Gate.OPEN and thread is not None:
                    self._offered_again(thread, open_[0].channel, finding, done)
                continue
            if thread is not None:
                channel = open_[0].channel
                self._store.record(thread, target, finding.key, channel, now, opens=False)
                self._deliver(thread, channel, self._message(finding, root=False), False)
                self._offered(thread, channel, finding, done)
                done.replies.append((finding, thread))
                continue
            thread = f"watch:{target.name}:{finding.key}:{now:.0f}"
            self._store.record(thread, target, finding.key, self._channel, now, opens=True)
            self._deliver(thread, self._channel, self._message(finding, root=True), True)
            self._offered(thread, self._channel, finding, done)
            done.threads.append((finding, thread))
        return done

    def _offered(self, thread: str, channel: str, finding: WatchFinding, done: Published) -> None:
        if finding.action is None or self._proposals is None or self._offer is None:
            return
        try:
            proposed = self._proposals.propose(finding, thread)
            if proposed is not None:
                self._offer(thread, channel, proposed)
                done.proposals.append(proposed)
        except Exception:  # the heads-up is out; the rest of the pass's findings still go
            log.exception("the change of %s could not be proposed", finding.target.name)
            done.held["proposal failed"] += 1

    def _offered_again(
        self, thread: str, channel: str, finding: WatchFinding, done: Published
    ) -> None:
        """An open heads-up whose proposed change expired unanswered while its finding still
        holds: the change is proposed anew in the same thread, said so (never twice while one
        waits: :meth:`WatchProposals.propose_again`)."""
        if finding.action is None or self._proposals is None or self._offer is None:
            return
        try:
            proposed = self._proposals.propose_again(finding, thread)
            if proposed is None:
                return
            message = note_message(
                markup(messages.WATCH_OFFERED_AGAIN, service=finding.target.service)
            )
            self._deliver(thread, channel, message, False)
            self._offer(thread, channel, proposed)
            done.proposals.append(proposed)
        except Exception:  # as a first offer: the rest of the pass's findings still go
            log.exception("the change of %s could not be proposed again", finding.target.name)
            done.held["proposal failed"] += 1

    def _message(self, finding: WatchFinding, *, root: bool) -> Message:
        return headsup_message(finding, self._rightsizing, root=root)
