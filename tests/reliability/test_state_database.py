"""No lost click: the state database locked by another process, restarted under Medic, or losing
the answer to a commit. The person is answered every time - the action done once, or "not
recorded" with the reason - and nothing half-written is left: no approval without its execution
and audit entries, no execution twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event

from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.harness import APPROVER, Medic
from tests.reliability.database_faults import CommitAnswerLost, write_locked
from tests.services.postgres import PostgresServer, running_postgres
from tests.tools.test_exactly_once import ACTION, CountingCluster, workflow
from tools.actions import Principal, ToolStatus
from tools.audit import AuditLog
from tools.proposals import ProposalStatus

SCALE_OUT = "scale shop/recommender replicas=6"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def diagnosed(medic: Medic) -> tuple[Any, Any]:
    medic.alert(medic.demo_alert())
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    return diagnosis, diagnosis.button("medic_approve", SCALE_OUT)


def audit_events(medic: Medic) -> list[str]:
    log = medic.service.threads.flow.workflow.audit
    assert log.verify().ok
    return [e.event for e in log.entries() if e.params == {"replicas": 6}]


def test_a_click_while_another_process_holds_the_sqlite_write_lock_is_recorded_after_it(
    start_medic: Callable[..., Medic],  # noqa: F811
) -> None:
    medic = start_medic()
    diagnosis, approve = diagnosed(medic)
    with write_locked(medic.service.data_dir / "medic.db") as release:
        medic.click(diagnosis, approve, APPROVER)
        time.sleep(6)  # longer than SQLite's busy timeout (5 s): the first attempt gave up
        release()
        medic.settle()
    assert medic.sim.get_deployment("shop", "recommender").replicas == 6
    assert "scaled deployment shop/recommender: 3 -> 6 replicas" in diagnosis.all_text()
    assert medic.slack.ephemeral_texts() == []
    assert audit_events(medic) == ["proposed", "approved", "started", "executed"]


def test_a_click_that_cannot_be_recorded_is_told_so_and_loses_nothing(
    start_medic: Callable[..., Medic],  # noqa: F811
) -> None:
    medic = start_medic(
        MEDIC_DATABASE__BUSY_TIMEOUT_SECONDS="0.2", MEDIC_DATABASE__RETRY_SECONDS="1"
    )
    diagnosis, approve = diagnosed(medic)
    health = f"{medic.url}/healthz"
    with write_locked(medic.service.data_dir / "medic.db"):
        medic.click(diagnosis, approve, APPROVER)
        [told] = wait_for(medic.slack.ephemeral_texts, "the clicker to be told")
        assert told == (
            "Not recorded: the state database is locked by another process. Nothing was "
            "changed; please try again in a minute."
        )
        unhealthy = medic.http.get(health)
        assert unhealthy.status_code == 503
        assert unhealthy.json()["state"]["error"] == (
            "the state database is locked by another process"
        )
    wait_for(lambda: medic.http.get(health).status_code == 200, "healthy again")  # within 1 s
    proposals = medic.service.threads.flow.proposals.for_incident("INC-0001")
    assert ProposalStatus.PROPOSED in {p.status for p in proposals}  # the click changed nothing
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3
    assert audit_events(medic) == ["proposed"]

    # Told to try again, the approver does, and the action runs, once.
    medic.click(diagnosis, approve, APPROVER)
    medic.settle()
    assert "scaled deployment shop/recommender: 3 -> 6 replicas" in diagnosis.all_text()
    assert audit_events(medic) == ["proposed", "approved", "started", "executed"]


@pytest.fixture(scope="module")
def restartable_postgres() -> Any:
    """A PostgreSQL server of this module's own, stopped and started under Medic."""
    with running_postgres() as server:
        yield server


def start_later(server: PostgresServer, delay: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), server.start()), daemon=True)
    thread.start()
    return thread


def once_before(
    engine: Engine, matches: Callable[[str, Any], bool], do: Callable[[], None]
) -> None:
    """Run ``do`` right before the first statement that ``matches`` is sent."""
    done = threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def hook(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if not done.is_set() and matches(statement, parameters):
            done.set()
            do()


def approving(statement: str, parameters: Any) -> bool:
    values = parameters.values() if isinstance(parameters, dict) else parameters or ()
    return statement.startswith("UPDATE proposals") and ProposalStatus.APPROVED in values


def check_done_once(engine: Engine, ledger: Path, pid: str, result: Any) -> None:
    assert result.status is ToolStatus.SUCCEEDED, result.summary
    assert len(ledger.read_text().splitlines()) == 1
    log = AuditLog(engine)
    assert log.verify().ok
    assert [e.event for e in log.entries()] == ["proposed", "approved", "started", "executed"]
    assert log.entries()[-1].proposal_id == pid


@pytest.mark.slow
def test_postgres_restarted_during_an_approval_records_it_and_executes_once(
    restartable_postgres: PostgresServer, tmp_path: Path
) -> None:
    engine = create_engine(restartable_postgres.database(), pool_pre_ping=True)
    ledger = tmp_path / "ledger"
    flow = workflow(engine, ledger)
    proposal = flow.propose("INC-1", ACTION, requested_by="medic:planner", source="t").proposal
    restarted: list[threading.Thread] = []

    def restart() -> None:
        restartable_postgres.stop()  # the approval's transaction dies with its connection
        restarted.append(start_later(restartable_postgres, 1.0))

    once_before(engine, approving, restart)
    began = time.monotonic()
    result = flow.approve(proposal.id, Principal("cli:alice"), proposal.digest).result
    # It waited for the server to come back (pg_ctl itself may still be polling for readiness).
    assert restarted and time.monotonic() - began >= 1.0
    restarted[0].join(timeout=60)
    check_done_once(engine, ledger, proposal.id, result)


class StoppingCluster(CountingCluster):
    """Stops the database server right after the real write: the execution's result must be
    recorded through the restart."""

    def __init__(self, ledger: Path, server: PostgresServer) -> None:
        super().__init__(ledger)
        self.server = server

    def scale(self, namespace: str, name: str, replicas: int, *, dry_run: bool = False) -> int:
        done = super().scale(namespace, name, replicas, dry_run=dry_run)
        if not dry_run:
            self.server.stop()
            start_later(self.server, 1.0)
        return done


@pytest.mark.slow
def test_postgres_restarted_during_an_execution_records_its_result(
    restartable_postgres: PostgresServer, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    engine = create_engine(restartable_postgres.database(), pool_pre_ping=True)
    flow = workflow(engine, ledger, StoppingCluster(ledger, restartable_postgres))
    proposal = flow.propose("INC-1", ACTION, requested_by="medic:planner", source="t").proposal
    result = flow.approve(proposal.id, Principal("cli:alice"), proposal.digest).result
    check_done_once(engine, ledger, proposal.id, result)
    final = flow.proposals.get(proposal.id)
    assert final is not None and final.status is ProposalStatus.SUCCEEDED


@pytest.mark.slow
def test_an_approval_whose_commit_answer_was_lost_executes_once(
    restartable_postgres: PostgresServer, tmp_path: Path
) -> None:
    """The server committed the approval and the connection died before saying so: the retried
    transaction finds its own approval (not a lost race), and the action runs once."""
    proxy = CommitAnswerLost(restartable_postgres.port)
    url = restartable_postgres.database().replace(
        f":{restartable_postgres.port}/", f":{proxy.port}/"
    )
    engine = create_engine(url, pool_pre_ping=True)
    ledger = tmp_path / "ledger"
    flow = workflow(engine, ledger)
    proposal = flow.propose("INC-1", ACTION, requested_by="medic:planner", source="t").proposal
    once_before(engine, approving, proxy.arm)
    result = flow.approve(proposal.id, Principal("cli:alice"), proposal.digest).result
    proxy.close()
    assert proxy.cuts == 1
    check_done_once(engine, ledger, proposal.id, result)


def test_medic_act_on_a_locked_database_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.bot.test_cli_act import medic

    monkeypatch.setenv("MEDIC_DATABASE__BUSY_TIMEOUT_SECONDS", "0.1")
    monkeypatch.setenv("MEDIC_DATABASE__RETRY_SECONDS", "0.5")
    status = ("act", "deployment_status", "--target", "shop/recommender", "--cluster", "sim")
    assert medic(*status)[0] == 0  # the state database and its tables exist
    with write_locked(tmp_path / "data" / "medic.db"):
        code, out, err = medic("act", "scale", "--target", "shop/recommender", "--param",
                               "replicas=6", "--yes", "--cluster", "sim")  # fmt: skip
    assert code == 4 and out == ""
    assert err == (
        "medic: not recorded: the state database is locked by another process; try again in a "
        "minute\n"
    )


def test_an_alert_waits_for_the_state_database_however_long_that_takes(tmp_path: Path) -> None:
    """A notification taken in while the state database is away is not given up after a few
    tries (as a notification Medic cannot handle is): nothing is lost, nobody is told it was."""
    from bot.slack.inbox import DONE, PENDING, AlertInbox, AlertIntake, inbox_engine
    from tools.errors import StateUnavailableError

    inbox = AlertInbox(inbox_engine(tmp_path))
    away = iter([StateUnavailableError("the state database server cannot be reached")] * 12)
    received: list[str] = []
    notices: list[str] = []

    def receive(body: str, _source: str, _at: float) -> None:
        if (problem := next(away, None)) is not None:
            raise problem
        received.append(body)

    intake = AlertIntake(
        inbox, receive, lambda _body, text: notices.append(text), pause=lambda _seconds: None
    )
    inbox.add('{"a": 1}', "alertmanager", 0.0)
    for _ in range(20):
        if not intake.take_one():
            break
    assert received == ['{"a": 1}'] and notices == []
    assert (inbox.count(PENDING), inbox.count(DONE)) == (0, 1)
