"""The duplicates part of ``bench_reliability.py``: >= ``--duplicates-deliveries`` notifications
over ``--duplicates-groups`` alert groups (firing, a repeat, resolved, firing again ...), each
posted to every `medic serve` replica at the same instant as an Alertmanager HA pair does, the
replicas sharing one PostgreSQL and one Chroma server (`chroma run`) and posting to a recording
fake Slack (tests/reliability/replica_run.py). With ``--duplicates-kill`` the first replica is
also killed (-9) mid-investigation and started again. Target: 0 duplicate incidents, 0 threads
without a diagnosis (and 0 duplicate threads or diagnoses, every notification accepted)."""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.reliability.replica_run import MEDIC, ReplicaRun
from tests.services.chroma import chroma_server
from tests.services.postgres import running_postgres


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--duplicates-deliveries", type=int, default=200)
    group.add_argument("--duplicates-groups", type=int, default=50)
    group.add_argument("--duplicates-replicas", type=int, default=2)
    group.add_argument(
        "--duplicates-lease",
        type=float,
        default=10.0,
        help="investigation.lease_seconds (0: leave unset, e.g. for code without leases)",
    )
    group.add_argument(
        "--duplicates-kill", action="store_true", help="kill -9 a replica mid-investigation"
    )
    group.add_argument(
        "--duplicates-medic",
        default=MEDIC,
        help="the medic executable (e.g. another checkout's, for a before/after baseline)",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="medic-replicas-")))
        url = stack.enter_context(running_postgres()).database()
        chroma = stack.enter_context(chroma_server(tmp / "chroma"))
        report = ReplicaRun(
            tmp / "run",
            url,
            chroma,
            replicas=args.duplicates_replicas,
            lease_seconds=args.duplicates_lease or None,
            medic=args.duplicates_medic,
        ).run(args.duplicates_groups, args.duplicates_deliveries, kill=args.duplicates_kill)
    print(
        f"{report.replicas} replicas, {report.deliveries} notifications x {report.replicas} "
        f"over {report.groups} groups ({report.episodes} firing episodes), {report.kills} kill(s), "
        f"{report.seconds:.0f} s: {report.incidents} incidents ({report.duplicate_incidents} "
        f"duplicate), {report.threads} threads ({report.duplicate_threads} duplicate roots), "
        f"{report.threads_without_diagnosis} threads without a diagnosis "
        f"({report.episodes_without_diagnosis} episodes), "
        f"{report.duplicate_diagnoses} incidents diagnosed twice, {report.investigations_started} "
        f"investigations started, {report.dead_lettered} dead-lettered, "
        f"{report.refused_deliveries} refused deliveries",
        flush=True,
    )
    for problem in report.problems[:20]:
        print(f"  {problem}")
    return report.as_dict()
