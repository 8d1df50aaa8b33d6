"""The audit log is append-only and hash-chained: any edited, deleted or cut entry is detected,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.audit import AuditLog
from tools.schema import upgraded


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return upgraded(create_engine(f"sqlite:///{tmp_path / 'audit.db'}"))
    return upgraded(create_engine(request.getfixturevalue("postgres_url")))


def filled(engine: Engine, n: int = 5) -> AuditLog:
    log = AuditLog(engine)
    for i in range(n):
        log.append(
            at=1_800_000_000.0 + i,
            actor=f"U{i}",
            event="approved",
            tool="scale",
            target="shop/recommender",
            params={"replicas": i + 2},
            decision="within policy",
            result="",
            proposal_id=f"p{i}",
        )
    return log


def test_intact_log_verifies_and_lists_in_order(engine: Engine) -> None:
    log = filled(engine)
    report = log.verify()
    assert report.ok and report.entries == 5 and report.head == log.entries()[-1].hash
    assert [e.actor for e in log.entries()] == ["U0", "U1", "U2", "U3", "U4"]
    assert [e.actor for e in log.entries(limit=2)] == ["U3", "U4"]
    entries = log.entries()
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE audit_log SET actor = 'U9' WHERE seq = 3", "entry 3 was modified"),
        (
            "UPDATE audit_log SET params = '{\"replicas\": 50}' WHERE seq = 2",
            "entry 2 was modified",
        ),
        ("DELETE FROM audit_log WHERE seq = 3", "entries 3..3 are missing"),
        ("DELETE FROM audit_log WHERE seq = 5", "the log ends at entry 4 but entry 5 was written"),
        ("DELETE FROM audit_log WHERE seq >= 4", "the log ends at entry 3 but entry 5 was written"),
    ],
)
def test_any_edit_or_deletion_is_detected(engine: Engine, tamper: str, problem: str) -> None:
    log = filled(engine)
    with engine.begin() as conn:
        conn.execute(text(tamper))
    report = log.verify()
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems


def test_rewriting_an_entry_with_its_hash_still_breaks_the_chain(engine: Engine) -> None:
    log = filled(engine)
    from tools.audit import entry_hash

    second = log.entries()[1]
    forged = {
        "at": second.at,
        "actor": "U-forger",
        "event": second.event,
        "tool": second.tool,
        "target": second.target,
        "params": '{"replicas": 3}',
        "decision": second.decision,
        "result": second.result,
        "proposal_id": second.proposal_id,
    }
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET actor = :a, hash = :h WHERE seq = 2"),
            {"a": "U-forger", "h": entry_hash(2, second.prev_hash, forged)},
        )
    problems = log.verify().problems
    assert problems == ["entry 3 does not follow the entry before it"]
