"""The crash part of ``bench_reliability.py``: Medic processes killed with SIGKILL at seeded random
moments across >= ``--crash-cycles`` approve -> execute cycles, on SQLite and on PostgreSQL,
against the Kubernetes API (kmock, counting every write) and a real Alertmanager; each next
process settles what the last one left (tests/reliability/crash.py). Target: 0 double executions,
0 lost approvals, 0 actions left executing (and 0 wrong verdicts, the audit chain intact)."""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.reliability.crash import CrashRun
from tests.services.alertmanager import running_alertmanager
from tests.services.kube import running_kube_api
from tests.services.postgres import running_postgres


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--crash-cycles", type=int, default=200, help="at least this many cycles")
    group.add_argument(
        "--crash-window", type=float, default=1.0, help="seconds a process runs, at most"
    )
    group.add_argument("--crash-seed", type=int, default=11)
    group.add_argument("--crash-databases", default="sqlite,postgresql")


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for database in args.crash_databases.split(","):
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="medic-crash-")))
            (tmp / "am").mkdir()
            kube = stack.enter_context(running_kube_api())
            alertmanager = stack.enter_context(running_alertmanager(tmp / "am")).url
            url = None
            if database != "sqlite":
                url = stack.enter_context(running_postgres()).database()
            report = CrashRun(
                tmp / "run", kube, alertmanager, url, seed=args.crash_seed, window=args.crash_window
            ).run(min_cycles=args.crash_cycles)
        summary = report.as_dict()
        print(
            f"{database}: {report.cycles} cycles, {report.kills} kills, {report.answered} answered "
            f"in {report.seconds:.0f} s: {report.double_executions} double executions, "
            f"{report.lost_approvals} lost approvals, {report.stuck_executing} left executing, "
            f"{report.wrong_verdicts} wrong verdicts, audit chain "
            f"{'intact' if report.audit_intact else 'BROKEN'}; settled at restart: "
            f"{dict(report.settled) or 'nothing'}",
            flush=True,
        )
        for problem in summary["problems"]:
            print(f"  {problem}")
        results[database] = summary
    results["target_met"] = all(r["target_met"] for r in results.values())
    return results
