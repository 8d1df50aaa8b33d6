"""Leases between replicas whose wall clocks disagree by minutes (a VM resumed from suspend, a host
with broken NTP): whether another replica's lease ran out is judged by the taker's own clock
watching the lease row stop changing, so a replica ten minutes ahead does not take a live lease
over, and one ten minutes behind still takes a dead replica's lease over after one lease; the one
behind does not run the watch's passes the one ahead already ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.slack.lease import LeaseWatch
from bot.slack.thread_store import Claim, ThreadStore
from bot.watch.loop import pass_slot
from bot.watch.store import WatchStore
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


def test_a_replica_whose_clock_runs_behind_does_not_run_the_watch_passes_again(
    tmp_path: Path,
) -> None:
    """Two replicas starting together, b's clock ten minutes behind a's, a pass a minute: each
    minute's pass runs once (was: both ran every pass for the first ten minutes, the slots b
    reached being ones a, ahead, had never claimed - two heads-ups for one finding)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    store = WatchStore(engine, open_seconds=6 * 3600)
    interval, start = 60.0, 1_800_000_000.0
    passes = []
    for minute in range(30):  # both wake at the start of each minute of their own clock
        for replica, now in (("a", start + 60 * minute + 600), ("b", start + 60 * minute)):
            if store.claim_pass(pass_slot(now, interval), replica, now):
                passes.append((minute, replica))
    assert passes == [(minute, "a") for minute in range(30)]


def test_a_longer_watch_interval_after_a_restart_still_runs_the_passes(tmp_path: Path) -> None:
    """Half an hour of a pass a minute, then Medic restarted with `watch.interval_seconds` 300:
    every five-minute pass runs (was: none ever again - slots were numbered by index, so each
    new one was "earlier" than the last one-minute slot claimed, and a replica never runs a slot
    earlier than one already claimed)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    store = WatchStore(engine, open_seconds=6 * 3600)
    start = 1_800_000_000.0
    for minute in range(30):
        now = start + 60 * minute
        assert store.claim_pass(pass_slot(now, 60.0), "a", now)
    restarted = start + 1800
    ran = [
        store.claim_pass(pass_slot(restarted + 300 * i, 300.0), "a", restarted + 300 * i)
        for i in range(6)
    ]
    assert ran == [True] * 6
