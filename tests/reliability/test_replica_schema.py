"""The state database's schema with several replicas: replicas starting together on an empty
database all upgrade it and start (one runs the migrations under the lock, the others wait and
find them done), on PostgreSQL and SQLite; a database written by a version before replicas were
safe keeps working - the first migration adds the one-open-incident index and the lease columns
in place, on SQLite and PostgreSQL, and resolves the duplicate open incidents that version could
leave, keeping the oldest."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.alerts import parse_alerts
from bot.database import StateHealth
from bot.diagnosis.corrections import CorrectionStore
from bot.incidents import IncidentStore
from bot.slack.outbox import Outbox
from bot.slack.thread_store import Claim, ThreadStore
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.audit import AuditLog
from tools.proposals import ProposalStore
from tools.schema import head, revision, upgrade

# The two tables as the version before this one created them.
OLD_SCHEMA = [
    """CREATE TABLE incidents (seq INTEGER NOT NULL PRIMARY KEY, fingerprint VARCHAR(64) NOT NULL,
    group_key TEXT NOT NULL, alertname VARCHAR(253) NOT NULL, service VARCHAR(253) NOT NULL,
    namespace VARCHAR(253) NOT NULL, status VARCHAR(16) NOT NULL, starts_at FLOAT NOT NULL,
    created_at FLOAT NOT NULL, resolved_at FLOAT, labels TEXT NOT NULL,
    annotations TEXT NOT NULL)""",
    """CREATE TABLE slack_thread_incidents (incident_id VARCHAR(64) NOT NULL PRIMARY KEY,
    thread_key TEXT NOT NULL, service VARCHAR(253) NOT NULL, namespace VARCHAR(253) NOT NULL,
    lead BOOLEAN NOT NULL, received_at FLOAT NOT NULL, investigated BOOLEAN NOT NULL,
    diagnosis_text TEXT NOT NULL, diagnosis_head TEXT NOT NULL, proposal_ids TEXT NOT NULL,
    after TEXT NOT NULL)""",
]
ALERT = {
    "status": "firing",
    "labels": {"alertname": "HighLatency", "service": "recommender"},
    "startsAt": "2026-11-28T10:00:00Z",
    "fingerprint": "ab12",
}
ROW = "'ab12', 'g', 'HighLatency', 'recommender', 'shop', 'open', 1.0, {at}, NULL, '{{}}', '{{}}'"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_existing_database_gets_the_index_and_lease_columns_and_loses_its_duplicates(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if database == "postgresql"
        else f"sqlite:///{tmp_path / 'old.db'}"
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        for ddl in OLD_SCHEMA:
            conn.execute(text(ddl))
        for seq in (1, 2):  # the race of two replicas: two open incidents of one fingerprint
            conn.execute(text(f"INSERT INTO incidents VALUES ({seq}, {ROW.format(at=seq)})"))
        conn.execute(text(
            "INSERT INTO slack_thread_incidents VALUES ('INC-0001', 'g', 'recommender', 'shop', "
            "TRUE, 1.0, FALSE, '', '[]', '[]', '')"
        ))  # fmt: skip

    upgrade(engine)
    assert upgrade(engine) == (head(), head())  # a second replica starting finds it all done
    incidents, threads = IncidentStore(engine), ThreadStore(engine)

    assert [i.id for i in incidents.open_incidents()] == ["INC-0001"]
    alert = parse_alerts(ALERT).alerts[0]
    attached, new = incidents.open_or_attach(
        alert, service="recommender", namespace="shop", group_key="g", now=5.0
    )
    assert (attached.id, new) == ("INC-0001", False)
    claim = threads.claim("INC-0001", "replica:1", now=5.0, seconds=60, max_attempts=2)
    assert claim is Claim.MINE  # the old row took the lease columns' defaults
    engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_replicas_starting_together_on_an_empty_database_all_start(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if database == "postgresql"
        else f"sqlite:///{tmp_path / 'new.db'}"
    )
    starting = 4
    barrier = threading.Barrier(starting)
    failures: list[BaseException] = []

    def start() -> None:
        engine = create_engine(url)
        try:
            barrier.wait(timeout=30)
            upgrade(engine)
            for store in (IncidentStore, ThreadStore, Outbox, ProposalStore, AuditLog,
                          CorrectionStore, StateHealth):  # fmt: skip
                store(engine)
        except BaseException as exc:
            failures.append(exc)
        finally:
            engine.dispose()

    replicas = [threading.Thread(target=start) for _ in range(starting)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join(timeout=120)
    assert failures == []
    engine = create_engine(url)
    assert revision(engine) == head()
    engine.dispose()
