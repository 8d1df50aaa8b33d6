"""From findings to heads-ups, on the real state database: one thread per service while it is
open (the same finding again is nothing new, another one is a reply in it), at most
``max_per_hour`` new threads per channel, none in quiet hours; and one replica per pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config.watch import QuietHours
from bot.database import state_engine
from bot.slack.blocks import Message
from bot.watch.findings import Concern, Limit, Target, WatchFinding
from bot.watch.proposals import Proposed, WatchProposals
from bot.watch.publish import HeadsUps
from bot.watch.store import WatchPassRow, WatchStore
from tools.actions import Action

CHANNEL = "C0WATCH"
NOON = 1_800_014_400.0  # 2027-01-15 12:00 UTC
HOUR = 3600.0

Sent = list[tuple[str, str, Message, bool]]


def leak(service: str = "checkout", subject: str = "memory_working_set_ratio") -> WatchFinding:
    return WatchFinding(
        target=Target("shop", service),
        concern=Concern.LIMIT,
        subject=subject,
        level=0.6,
        limit=Limit(1.0, "the working set is a share of the memory limit"),
        eta_seconds=2 * HOUR,
    )


@pytest.fixture
def store(tmp_path: Path) -> WatchStore:
    (tmp_path / "data").mkdir()
    return WatchStore(state_engine(tmp_path / "data"), open_seconds=6 * HOUR)


def headsups(store: WatchStore, sent: Sent, **changes: object) -> HeadsUps:
    options: dict[str, object] = {"max_per_hour": 6, "quiet": None, **changes}
    return HeadsUps(
        store=store,
        deliver=lambda *posted: sent.append(posted),
        channel=CHANNEL,
        **options,  # type: ignore[arg-type]
    )


def test_the_same_finding_is_posted_once_while_open(store: WatchStore) -> None:
    sent: Sent = []
    publisher = headsups(store, sent)
    publisher.publish([leak()], NOON)
    again = publisher.publish([leak()], NOON + 300)
    assert len(sent) == 1 and again.held["open"] == 1
    thread, channel, message, root = sent[0]
    assert channel == CHANNEL and root and "Heads-up: checkout" in message.text

    # a different finding of the same service: a reply in its open thread, not a new thread
    publisher.publish([leak(subject="disk_usage_ratio")], NOON + 600)
    assert [(key, is_root) for key, _c, _m, is_root in sent] == [(thread, True), (thread, False)]

    # found no more for longer than it stays open: the next time is a new thread
    publisher.publish([leak()], NOON + 600 + 6 * HOUR + 1)
    assert sent[-1][3] and sent[-1][0] != thread


def test_new_threads_are_rate_limited_per_channel_per_hour(store: WatchStore) -> None:
    sent: Sent = []
    publisher = headsups(store, sent, max_per_hour=2)
    services = ["checkout", "frontend", "recommender"]
    done = publisher.publish([leak(s) for s in services], NOON)
    assert [t.target.service for t, _key in done.threads] == ["checkout", "frontend"]
    assert done.held["rate-limited"] == 1
    later = publisher.publish([leak("recommender")], NOON + HOUR + 1)
    assert [t.target.service for t, _key in later.threads] == ["recommender"]


def test_quiet_hours_drop_a_heads_up_and_the_next_pass_after_them_posts_it(
    store: WatchStore,
) -> None:
    sent: Sent = []
    publisher = headsups(store, sent, quiet=QuietHours(start="22:00", end="07:00"))
    night = NOON + 11 * HOUR  # 23:00 UTC
    assert publisher.publish([leak()], night).held["quiet"] == 1
    assert publisher.publish([leak()], night + 7 * HOUR).held["quiet"] == 1  # 06:00
    assert sent == []
    morning = publisher.publish([leak()], night + 8 * HOUR)  # 07:00: still leaking
    assert len(morning.threads) == 1 and len(sent) == 1


class DatabaseClock:
    """The state database's clock, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self, _session: Session) -> float:
        return self.now


def test_one_replica_runs_a_pass(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    clock = DatabaseClock(NOON)
    store = WatchStore(state_engine(tmp_path / "data"), open_seconds=6 * HOUR, clock=clock)
    other = WatchStore(state_engine(tmp_path / "data"), open_seconds=6 * HOUR, clock=clock)
    assert store.claim_pass(300, "replica-a").won
    assert not other.claim_pass(300, "replica-b").won
    clock.now += 300
    assert other.claim_pass(300, "replica-b").won


def test_claims_of_passes_do_not_pile_up(tmp_path: Path) -> None:
    """Passes every 5 minutes for three days leave a day of claims in the database."""
    (tmp_path / "data").mkdir()
    clock = DatabaseClock(NOON)
    store = WatchStore(state_engine(tmp_path / "data"), open_seconds=6 * HOUR, clock=clock)
    for _ in range(3 * 24 * 12):
        assert store.claim_pass(300, "replica-a").won
        clock.now += 300
    with Session(store._engine) as session:
        kept = session.scalar(select(func.count()).select_from(WatchPassRow))
    assert kept == 24 * 12 + 1


def test_an_alert_of_the_service_takes_over_the_open_heads_up_thread(store: WatchStore) -> None:
    sent: Sent = []
    headsups(store, sent).publish([leak()], NOON)
    thread = sent[0][0]
    checkout, frontend = ("shop", "checkout"), Target("shop", "frontend")
    assert store.thread_for_alert("group-1", [frontend], NOON + 60) is None
    taken = store.thread_for_alert("group-1", [Target(*checkout)], NOON + 60)
    assert taken == thread
    # the same group later (resolved, renotified) finds it again; another group does not
    assert store.thread_for_alert("group-1", [], NOON + 120) == thread
    assert store.thread_for_alert("group-2", [Target(*checkout)], NOON + 120) is None


class _ProposalsDown(WatchProposals):
    """The state database failing as the change is proposed."""

    def __init__(self) -> None:
        pass

    def propose(self, finding: WatchFinding, thread: str | None = None) -> Proposed | None:
        raise OSError("database is locked")


def test_a_change_that_cannot_be_proposed_costs_only_its_offer(store: WatchStore) -> None:
    sent: Sent = []
    offers: list[tuple[str, str, Proposed]] = []
    over = WatchFinding(
        target=Target("shop", "checkout"),
        concern=Concern.OVER_PROVISIONED,
        subject="cpu_utilization_pct",
        level=12.0,
        baseline=6.0,
        action=Action("scale", "shop", "checkout", {"replicas": 2}),
    )
    publisher = headsups(store, sent, proposals=_ProposalsDown(), offer=lambda *o: offers.append(o))
    done = publisher.publish([over, leak("frontend")], NOON)
    assert [t.target.service for t, _key in done.threads] == ["checkout", "frontend"]
    assert done.held["proposal failed"] == 1 and offers == [] and len(sent) == 2
