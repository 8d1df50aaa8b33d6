"""Exactly once: however many clicks, retried requests, threads or bot processes approve the same
proposal, the cluster is changed once and every loser is told who won and when. On SQLite and on a
real PostgreSQL server, where two processes race through separate connections."""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine

from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.actions import Action, Principal, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.guard import Guard
from tools.policy import load_policy
from tools.proposals import ProposalStatus, ProposalStore
from tools.schema import upgraded
from tools.sim import SCENARIOS, SimulatedCluster
from tools.workflow import RemediationWorkflow

START = 1_800_000_000.0
ACTION = Action("scale", "shop", "recommender", {"replicas": 6})
LOSER = re.compile(r"^already (approved|being executed|executed) by cli:\w+ (at|since) \d\d:\d\d")


class CountingCluster(SimulatedCluster):
    """The simulated cluster, appending a line to ``ledger`` for every real write."""

    def __init__(self, ledger: Path) -> None:
        super().__init__(SCENARIOS["input-size-surge"], VirtualClock(START))
        self.ledger = ledger

    def scale(self, namespace: str, name: str, replicas: int, *, dry_run: bool = False) -> int:
        if not dry_run:
            with self.ledger.open("a") as f:
                f.write(f"{os.getpid()} scale {replicas}\n")
        return super().scale(namespace, name, replicas, dry_run=dry_run)


def workflow(
    engine: Engine, ledger: Path, cluster: CountingCluster | None = None
) -> RemediationWorkflow:
    cluster = cluster or CountingCluster(ledger)
    proposals = ProposalStore(upgraded(engine))
    return RemediationWorkflow(
        proposals=proposals,
        guard=Guard(load_policy(), cluster, proposals),
        backends=Backends(cluster, cluster, cluster),
        clock=cluster.clock,
        audit=AuditLog(engine),
    )


def propose(flow: RemediationWorkflow) -> tuple[str, str]:
    outcome = flow.propose("INC-1", ACTION, requested_by="medic:planner", source="test")
    return outcome.proposal.id, outcome.proposal.digest


def race_threads(url: str, ledger: Path, threads: int) -> list[Any]:
    engine = create_engine(url)
    flow = workflow(engine, ledger)
    pid, digest = propose(flow)
    barrier = threading.Barrier(threads)
    results: list[Any] = []

    def click(n: int) -> None:
        barrier.wait()
        results.append(flow.approve(pid, Principal(f"cli:user{n}"), digest).result)

    pool = [threading.Thread(target=click, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert flow.proposals.get(pid).status is ProposalStatus.SUCCEEDED  # type: ignore[union-attr]
    assert AuditLog(engine).verify().ok
    return results


def check_exactly_once(results: list[Any], ledger: Path) -> None:
    winners = [r for r in results if r.status is ToolStatus.SUCCEEDED]
    losers = [r for r in results if r.status is not ToolStatus.SUCCEEDED]
    assert len(winners) == 1
    assert len(ledger.read_text().splitlines()) == 1
    assert all(LOSER.match(r.summary) for r in losers), [r.summary for r in losers]


def test_double_click_and_retried_request_execute_once(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    flow = workflow(create_engine(f"sqlite:///{tmp_path / 'state.db'}"), ledger)
    pid, digest = propose(flow)
    first = flow.approve(pid, "cli:alice", digest).result
    again = flow.approve(pid, "cli:alice", digest).result  # the same click, retried
    assert first.ok and again.summary.startswith("already executed by cli:alice at ")
    assert len(ledger.read_text().splitlines()) == 1


def test_threads_on_sqlite_execute_once(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    url = f"sqlite:///{tmp_path / 'state.db'}"
    create_engine(url)
    check_exactly_once(race_threads(url, ledger, 8), ledger)


@pytest.mark.slow
def test_threads_on_postgres_execute_once(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    ledger = tmp_path / "ledger"
    check_exactly_once(race_threads(postgres_url, ledger, 8), ledger)


def _approve_in_process(
    url: str, ledger: str, pid: str, digest: str, user: str, barrier: Any, out: Any
) -> None:
    engine = create_engine(url)
    flow = workflow(engine, Path(ledger))
    barrier.wait()
    result = flow.approve(pid, Principal(user), digest).result
    out.put((result.status.value, result.summary))


@pytest.mark.slow
def test_two_processes_on_postgres_execute_once(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    ledger = tmp_path / "ledger"
    engine = create_engine(postgres_url)
    pid, digest = propose(workflow(engine, ledger))
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    processes = [
        context.Process(
            target=_approve_in_process,
            args=(postgres_url, str(ledger), pid, digest, user, barrier, out),
        )
        for user in ("cli:alice", "cli:bob")
    ]
    for p in processes:
        p.start()
    answers = [out.get(timeout=60) for _ in processes]
    for p in processes:
        p.join(30)
    assert [p.exitcode for p in processes] == [0, 0]
    results = [
        type("R", (), {"status": ToolStatus(status), "summary": summary})()
        for status, summary in answers
    ]
    check_exactly_once(results, ledger)
    lines = ledger.read_text().splitlines()
    assert lines[0].split()[0] != str(os.getpid())  # it ran in one of the two processes
    assert ProposalStore(engine).get(pid).status is ProposalStatus.SUCCEEDED  # type: ignore[union-attr]
    report = AuditLog(engine).verify()
    assert report.ok and report.entries == 4  # proposed, approved, started, executed: once each


def race_two_proposals(url: str, ledger: Path) -> None:
    """Two incidents' proposals of the same change, approved at the same moment by two people:
    each passes the guard on its own, but the cooldown lets only one of them run; the other is
    refused (not left hanging as approved), and the audit log says so."""
    engine = create_engine(url)
    flow = workflow(engine, ledger)
    proposals = [
        flow.propose(incident, ACTION, requested_by="medic:planner", source="test").proposal
        for incident in ("INC-1", "INC-2")
    ]
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def click(n: int) -> None:
        barrier.wait()
        p = proposals[n]
        results[p.id] = flow.approve(p.id, Principal(f"cli:user{n}"), p.digest).result

    pool = [threading.Thread(target=click, args=(n,)) for n in range(2)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    statuses = {pid: flow.proposals.get(pid).status for pid in results}  # type: ignore[union-attr]
    assert sorted(r.status for r in results.values()) == [
        ToolStatus.REFUSED,
        ToolStatus.SUCCEEDED,
    ], [r.summary for r in results.values()]
    assert len(ledger.read_text().splitlines()) == 1
    for pid, result in results.items():
        if result.status is ToolStatus.REFUSED:
            assert "cooldown" in result.summary, result.summary
            assert statuses[pid] is ProposalStatus.REFUSED
        else:
            assert statuses[pid] is ProposalStatus.SUCCEEDED
    events = [e.event for e in AuditLog(engine).entries()]
    assert sorted(events) == sorted(
        ["proposed"] * 2 + ["approved"] * 2 + ["started", "executed", "refused"]
    )
    assert AuditLog(engine).verify().ok


@pytest.mark.parametrize("attempt", range(5))
def test_cooldown_holds_between_two_proposals_on_sqlite(tmp_path: Path, attempt: int) -> None:
    race_two_proposals(f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "ledger")


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(5))
def test_cooldown_holds_between_two_proposals_on_postgres(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    attempt: int,
) -> None:
    race_two_proposals(postgres_url, tmp_path / "ledger")
