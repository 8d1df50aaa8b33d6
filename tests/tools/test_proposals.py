"""The proposal state machine: approval binds to what was shown, expires, and executes once."""

from __future__ import annotations

import threading

from tools.actions import Action
from tools.proposals import ProposalStatus, ProposalStore
from tools.schema import upgraded

ACTION = Action("scale", "shop", "recommender", {"replicas": 6})
NOW = 1_800_000_000.0


def propose(store: ProposalStore, action: Action = ACTION, ttl: float = 900) -> str:
    return store.create(
        "INC-0001",
        action,
        source="runbook:x",
        rationale="r",
        preview="p",
        recipe={"tool": "scale"},
        now=NOW,
        ttl_seconds=ttl,
    ).id


def test_approval_moves_proposed_to_approved_once(store: ProposalStore) -> None:
    pid = propose(store)
    first = store.approve(pid, "U1", ACTION.digest(), NOW + 1)
    second = store.approve(pid, "U2", ACTION.digest(), NOW + 2)
    assert first.ok and first.proposal.status is ProposalStatus.APPROVED
    assert not second.ok
    assert "already approved by U1" in second.reason


def test_approval_of_a_different_action_than_shown_is_refused(store: ProposalStore) -> None:
    pid = propose(store)
    shown = Action("scale", "shop", "recommender", {"replicas": 4}).digest()
    result = store.approve(pid, "U1", shown, NOW + 1)
    assert not result.ok and "changed since it was shown" in result.reason
    assert store.get(pid).status is ProposalStatus.PROPOSED  # type: ignore[union-attr]


def test_expired_proposal_cannot_be_approved(store: ProposalStore) -> None:
    pid = propose(store, ttl=60)
    result = store.approve(pid, "U1", ACTION.digest(), NOW + 61)
    assert not result.ok and "expired" in result.reason
    assert store.get(pid).status is ProposalStatus.EXPIRED  # type: ignore[union-attr]


def test_rejected_proposal_cannot_be_approved(store: ProposalStore) -> None:
    pid = propose(store)
    assert store.reject(pid, "U9", NOW + 1).ok
    result = store.approve(pid, "U1", ACTION.digest(), NOW + 2)
    assert not result.ok and "already rejected by U9" in result.reason


def test_refused_proposal_is_recorded_with_its_reason(store: ProposalStore) -> None:
    p = store.create(
        "INC-0001",
        ACTION,
        source="s",
        rationale="",
        preview="",
        recipe={},
        now=NOW,
        ttl_seconds=60,
        refused_because="replicas.max: too many",
    )
    assert p.status is ProposalStatus.REFUSED
    assert "refused by policy" in store.approve(p.id, "U1", ACTION.digest(), NOW).reason


def test_only_one_of_many_threads_begins_execution(store: ProposalStore) -> None:
    pid = propose(store)
    store.approve(pid, "U1", ACTION.digest(), NOW + 1)
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def race() -> None:
        barrier.wait()
        wins.append(store.begin_execution(pid, NOW + 2).ok)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    assert store.get(pid).status is ProposalStatus.EXECUTING  # type: ignore[union-attr]


def test_proposals_survive_a_new_store_on_the_same_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'state.db'}"
    pid = propose(ProposalStore(upgraded(create_engine(url))))
    again = ProposalStore(upgraded(create_engine(url)))
    assert again.get(pid) is not None
    assert [p.id for p in again.for_incident("INC-0001")] == [pid]


def test_a_state_database_from_before_these_columns_keeps_working(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE proposals (id VARCHAR(32) PRIMARY KEY, incident_id VARCHAR(64), "
                "tool VARCHAR(64), namespace VARCHAR(253), name VARCHAR(253), params TEXT, "
                "digest VARCHAR(64), status VARCHAR(16), source VARCHAR(64), rationale TEXT, "
                "preview TEXT, recipe TEXT, rank INTEGER, created_at FLOAT, expires_at FLOAT, "
                "decided_by VARCHAR(128), decided_at FLOAT, finished_at FLOAT, outcome TEXT)"
            )
        )
    store = ProposalStore(upgraded(engine))
    pid = propose(store)
    assert store.approve(pid, "U1", ACTION.digest(), NOW + 1).ok
    assert store.get(pid).requested_by == "medic"  # type: ignore[union-attr]
