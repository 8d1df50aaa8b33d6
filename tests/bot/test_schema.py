"""The one schema and its migrations: a database written by the last release before migrations
(main at 24c76b0; tests/bot/fixtures/make_old_release.py wrote these dumps with that release's
own stores) upgrades in place with `medic db upgrade` and keeps every row, on SQLite and
PostgreSQL; upgrading again changes nothing; the models and the migrations describe the same
schema; a database a newer release wrote is refused in words."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from bot.cli.app import app
from bot.database import sqlite_engine, state_engine
from bot.diagnosis.corrections import CorrectionStore
from bot.errors import ConfigError
from bot.incidents import IncidentStore
from bot.schema import metadata
from bot.slack.inbox import AlertInbox, inbox_engine
from bot.slack.outbox import Outbox
from bot.slack.thread_store import ThreadStore
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.audit import AuditLog
from tools.proposals import ProposalStatus, ProposalStore
from tools.schema import head, revision, upgraded

FIXTURES = Path(__file__).parent / "fixtures"


def old_release(database: str, data_dir: Path, request: pytest.FixtureRequest) -> None:
    """The data directory (and, for PostgreSQL, the database) that release left behind."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data_dir / "inbox.db") as conn:
        conn.executescript((FIXTURES / "old_release_inbox.sqlite.sql").read_text())
    if database == "sqlite":
        with sqlite3.connect(data_dir / "medic.db") as conn:
            conn.executescript((FIXTURES / "old_release.sqlite.sql").read_text())
        return
    url = request.getfixturevalue("postgres_url")
    os.environ["MEDIC_DATABASE_URL"] = url  # clean_environ removes it after the test
    loader = create_engine(url, poolclass=NullPool)  # the dump changes its session's settings
    with loader.begin() as conn:
        conn.exec_driver_sql((FIXTURES / "old_release.postgresql.sql").read_text())
    loader.dispose()


def medic_db_upgrade() -> str:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return result.output


def state(data_dir: Path) -> Engine:
    return state_engine(data_dir, os.environ.get("MEDIC_DATABASE_URL"), migrate=False)


def schema_of(engine: Engine) -> str:
    """Every table's columns, indexes (with their conditions) and keys, and its rows, in words
    (SQLAlchemy's types and clauses compare by identity)."""
    found = inspect(engine)

    def index(i: Any) -> str:
        return repr({**i, "dialect_options": {k: str(v) for k, v in i["dialect_options"].items()}})

    with engine.connect() as conn:
        return repr({
            t: (found.get_columns(t), [index(i) for i in found.get_indexes(t)],
                found.get_pk_constraint(t), conn.execute(text(f"SELECT * FROM {t}")).all())
            for t in sorted(found.get_table_names())
        })  # fmt: skip


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_of_the_release_before_migrations_upgrades_in_place_keeping_its_rows(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    data_dir = Path(os.environ["MEDIC_DATA_DIR"])
    old_release(database, data_dir, request)
    assert revision(state(data_dir)) is None

    assert medic_db_upgrade().splitlines() == [
        f"state database: upgraded from no revision to {head()}",
        f"alert inbox: upgraded from no revision to {head()}",
    ]

    engine = state(data_dir)
    [incident] = IncidentStore(engine).open_incidents()
    assert (incident.id, incident.service, incident.summary) == (
        "INC-0001", "recommender", "p99 latency above 500 ms",
    )  # fmt: skip
    [proposal] = ProposalStore(engine).for_incident("INC-0001")
    assert proposal.status is ProposalStatus.EXECUTING and proposal.decided_by == "U123"
    assert proposal.expected == {"replicas": 4} and proposal.requested_by == "medic"
    audit = AuditLog(engine)
    assert audit.verify().ok
    assert [e.event for e in audit.entries()] == ["proposed", "approved"]
    assert CorrectionStore(engine).latest(["INC-0001"])["INC-0001"].cause == "traffic-surge"
    threads = ThreadStore(engine)
    link = threads.link_of("INC-0001")
    assert link is not None and link.investigated and link.proposal_ids == [proposal.id]
    assert [e.text for e in threads.timeline("INC-0001")] == ["HighLatency fired"]
    assert not threads.first_time("Ev1", 2000.0)  # the event handled before is still known
    outbox = Outbox(engine)
    assert outbox.message("g1", "root") is not None
    assert [i.payload for i in outbox.due(2000.0)] == [{"text": "HighLatency"}]
    pending = AlertInbox(inbox_engine(data_dir)).oldest_pending()
    assert pending is not None and pending.source == "alertmanager"
    # The new column is there, empty for the incidents from before.
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT diagnosis FROM incidents")) is None
    # And the incidents go on: the open one is still the only open one of its fingerprint.
    assert IncidentStore(engine).open_with_fingerprints(["ab12"]) == [incident]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_medic_db_upgrade_twice_changes_nothing_the_second_time(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    data_dir = Path(os.environ["MEDIC_DATA_DIR"])
    old_release(database, data_dir, request)
    medic_db_upgrade()
    before = schema_of(state(data_dir)), schema_of(sqlite_engine(data_dir, "inbox.db"))

    assert medic_db_upgrade().splitlines() == [
        f"state database: at revision {head()} (the newest, {head()}); nothing to do",
        f"alert inbox: at revision {head()} (the newest, {head()}); nothing to do",
    ]
    assert (schema_of(state(data_dir)), schema_of(sqlite_engine(data_dir, "inbox.db"))) == before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_models_and_the_migrations_describe_the_same_schema(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if database == "postgresql"
        else f"sqlite:///{tmp_path / 'state.db'}"
    )
    engine = upgraded(create_engine(url))
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata())
    assert differences == []
    engine.dispose()


def test_a_database_a_newer_release_wrote_is_refused_in_words(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match=r"schema revision 9999.*newer Medic"):
        sqlite_engine(tmp_path)


def test_a_state_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "medic.db").write_bytes(b"not a database, some other file" * 100)
    with pytest.raises(ConfigError, match=r"medic\.db is not a SQLite database"):
        sqlite_engine(tmp_path)  # before: sqlite3's DatabaseError, a traceback from every command
