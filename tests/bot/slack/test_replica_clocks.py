"""Leases between replicas whose wall clocks disagree by minutes (a VM resumed from suspend, a host
with broken NTP): whether another replica's lease ran out is judged by the taker's own clock
watching the lease row stop changing, so a replica ten minutes ahead does not take a live lease
over, and one ten minutes behind still takes a dead replica's lease over after one lease. The
watch's passes are named by the database's clock: each runs once whatever the replicas' clocks
say, and when the replica ahead dies the next pass runs on another one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from bot.slack.lease import LeaseWatch
from bot.slack.thread_store import Claim, ThreadStore
from bot.watch.loop import WatchLoop
from bot.watch.publish import HeadsUps
from bot.watch.runner import Watch
from bot.watch.store import WatchStore
from detectors import Series, TimeLeft
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.schema import upgrade

LEASE = 60.0
INCIDENT = "INC-0001"


class Monotonic:
    """One replica's own monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> ThreadStore:
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    store = ThreadStore(engine)
    store.open_thread("g", "C1", None, external=False, now=1000.0)
    store.link(
        INCIDENT, "g", service="recommender", namespace="shop", received_at=1000.0,
        is_open=lambda _i: False,
    )  # fmt: skip
    return store


@pytest.mark.parametrize("skew", [600.0, -600.0], ids=["ahead", "behind"])
def test_a_skewed_replica_waits_for_a_live_lease_and_takes_a_dead_one_after_one_lease(
    store: ThreadStore, skew: float
) -> None:
    a_wall = 1000.0  # replica a's wall clock; replica b's is ``skew`` seconds off it
    b_mono = Monotonic()
    b_watch = LeaseWatch(LEASE, b_mono)

    def b_claims() -> Claim:
        return store.claim(
            INCIDENT, "b:1", now=a_wall + skew, seconds=LEASE, max_attempts=2,
            expired=lambda holder, version: b_watch.expired(INCIDENT, holder, version),
        )  # fmt: skip

    assert store.claim(INCIDENT, "a:1", now=a_wall, seconds=LEASE, max_attempts=2) is Claim.MINE
    for _ in range(10):  # a renews every third of a lease for ten minutes: b keeps off
        assert b_claims() is Claim.BUSY
        a_wall += LEASE / 3
        b_mono.now += LEASE / 3
        assert store.renew(INCIDENT, "a:1", a_wall + LEASE)
    assert b_claims() is Claim.BUSY

    b_mono.now += LEASE - 1  # a died right after its last renewal: not yet a whole lease
    assert b_claims() is Claim.BUSY
    b_mono.now += 1
    assert b_claims() is Claim.MINE
    link = store.link_of(INCIDENT)
    assert link is not None and link.lease_owner == "b:1" and link.attempts == 2


def test_a_renewal_at_the_same_instant_still_shows_the_lease_alive(store: ThreadStore) -> None:
    """The holder's clock stepped back: its renewal writes the ``lease_until`` already there."""
    mono = Monotonic()
    watch = LeaseWatch(LEASE, mono)
    assert store.claim(INCIDENT, "a:1", now=1000.0, seconds=LEASE, max_attempts=2) is Claim.MINE
    link = store.link_of(INCIDENT)
    assert link is not None and not watch.expired(INCIDENT, link.lease_owner, link.lease_until)
    mono.now += LEASE / 2
    assert store.renew(INCIDENT, "a:1", 1000.0 + LEASE)
    mono.now += LEASE / 2
    link = store.link_of(INCIDENT)
    assert link is not None and not watch.expired(INCIDENT, link.lease_owner, link.lease_until)


def test_a_released_lease_is_taken_at_once_and_finished_ones_are_forgotten() -> None:
    mono = Monotonic()
    watch = LeaseWatch(LEASE, mono)
    assert watch.expired(INCIDENT, "", 0.0)  # released: any replica takes it at once
    assert not watch.expired(INCIDENT, "a:1", 1060.0)
    assert not watch.expired("INC-0002", "a:2", 1060.0)
    mono.now += LEASE
    watch.keep_only({"INC-0002"})  # INC-0001 was finished meanwhile: its entry goes
    assert watch.expired("INC-0002", "a:2", 1060.0)
    assert not watch.expired(INCIDENT, "a:1", 1060.0)  # seen anew, not remembered


class NoMetrics:
    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[Series]:
        return []


class DatabaseClock:
    """The state database's clock, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self, _session: Session) -> float:
        return self.now


def replica(store: WatchStore, name: str, skew: float, interval: float) -> WatchLoop:
    """One replica's watch, its wall clock ``skew`` seconds off the true time."""
    return WatchLoop(
        watch=Watch(metrics=NoMetrics(), checks=[], lookback=3600),
        targets=list,
        headsups=HeadsUps(
            store=store, deliver=lambda *_p: None, channel="C0WATCH", max_per_hour=6, quiet=None
        ),
        store=store,
        interval=interval,
        owner=name,
        now=lambda: time.time() + skew,
    )


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """The state database shared by the replicas: SQLite or PostgreSQL."""
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = create_engine(url)
    upgrade(engine)
    return engine


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_when_the_replica_whose_clock_runs_ahead_dies_the_watch_runs_on(
    database: Engine,
) -> None:
    """Replica a's clock runs ten minutes ahead of b's; a runs a pass, then dies. The next pass
    (a pass a second here) runs on b (was: none until b's clock reached a's last pass - ten
    minutes without a watch)."""
    store = WatchStore(database, open_seconds=6 * 3600)
    a, b = replica(store, "a", 600.0, 1.0), replica(store, "b", 0.0, 1.0)
    assert a.run_pass() is not None
    deadline = time.monotonic() + 30  # a guard against a hang: the next pass is a second away
    while b.run_pass() is None:
        assert time.monotonic() < deadline, "b never ran a pass after a died"
        time.sleep(0.05)


def test_replicas_whose_clocks_disagree_run_each_watch_pass_once(tmp_path: Path) -> None:
    """b's clock ten minutes behind a's, c's ten minutes ahead, a pass a minute, all three waking
    at once: each minute's pass runs once (was, by each replica's own clock: both a and b ran
    every pass for the first ten minutes)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    clock = DatabaseClock(1_800_000_000.0)
    store = WatchStore(engine, open_seconds=6 * 3600, clock=clock)
    replicas = [replica(store, name, skew, 60.0) for name, skew in
                (("a", 0.0), ("b", -600.0), ("c", 600.0))]  # fmt: skip
    passes = []
    for _minute in range(30):
        ran = [r for r in replicas if r.run_pass() is not None]
        passes.append(len(ran))
        clock.now += 60
    assert passes == [1] * 30


def test_a_longer_watch_interval_after_a_restart_still_runs_the_passes(tmp_path: Path) -> None:
    """Half an hour of a pass a minute, then Medic restarted with `watch.interval_seconds` 300:
    every five-minute pass runs (was: none ever again - slots were numbered by index, so each
    new one was "earlier" than the last one-minute slot claimed, and a replica never runs a slot
    earlier than one already claimed)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    clock = DatabaseClock(1_800_000_000.0)
    store = WatchStore(engine, open_seconds=6 * 3600, clock=clock)
    for _minute in range(30):
        assert store.claim_pass(60.0, "a").won
        clock.now += 60
    ran = []
    for _ in range(6):
        ran.append(store.claim_pass(300.0, "a").won)
        clock.now += 300
    assert ran == [True] * 6
