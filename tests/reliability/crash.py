"""The crash suite's harness, shared by ``tests/reliability/test_crash.py`` and
``benchmarks/reliability/crash.py``: Medic processes (``crash_worker``) run approve -> execute
cycles against the Kubernetes API (kmock, in this process, which counts every write it receives)
and a real Alertmanager, on SQLite or PostgreSQL, and are killed with SIGKILL at seeded random
moments; each next process settles what the killed one left. At the end the writes the backends
received are compared with what the state database says:

- a double execution: a proposal whose change reached the backend more than once;
- a lost approval: an approval still waiting to run, or an answer given to the person that the
  state database does not bear out;
- stuck: a proposal still ``executing``;
- a wrong verdict: settled succeeded without a write, or failed with one.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text

from tests.reliability.crash_worker import DEPLOYMENTS, NAMESPACE, build, deployment_name
from tests.services import k8s_objects
from tests.services.kube import KubeApi
from tools.proposals import ProposalStatus

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120.0  # a worker's start on a busy machine: imports, schema, settling


@dataclass
class CrashReport:
    database: str
    kills: int = 0
    cycles: int = 0
    answered: int = 0
    double_executions: int = 0
    lost_approvals: int = 0
    stuck_executing: int = 0
    wrong_verdicts: int = 0
    audit_intact: bool = False
    settled: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def target_met(self) -> bool:
        return self.audit_intact and not (
            self.double_executions
            or self.lost_approvals
            or self.stuck_executing
            or self.wrong_verdicts
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "kills": self.kills,
            "cycles": self.cycles,
            "answered": self.answered,
            "double_executions": self.double_executions,
            "lost_approvals": self.lost_approvals,
            "stuck_executing": self.stuck_executing,
            "wrong_verdicts": self.wrong_verdicts,
            "audit_intact": self.audit_intact,
            "settled_at_restart": dict(self.settled),
            "final_statuses": dict(self.statuses),
            "seconds": round(self.seconds, 1),
            "target_met": self.target_met,
            "problems": self.problems[:10],
        }


def crash_policy(path: Path) -> Path:
    """The shipped policy, opened up so every cycle may run: any Deployment in ``shop``, any
    replica count, no cooldown (each cycle scales to a count no other cycle uses)."""
    policy = yaml.safe_load(resources.files("tools").joinpath("default_policy.yaml").read_text())
    policy.update(
        workloads={},
        replicas={"min": 1, "max": 1_000_000},
        max_scale_factor=1e9,
        cooldown_seconds=0,
        approvers=[{"users": ["cli:*"]}],
    )
    path.write_text(yaml.safe_dump(policy))
    return path


class CrashRun:
    def __init__(
        self,
        workdir: Path,
        kube: KubeApi,
        alertmanager: str,
        database: str | None = None,
        seed: int = 11,
        window: float = 1.0,
    ) -> None:
        """``database``: a PostgreSQL URL (an empty database), or None for SQLite in
        ``workdir``; ``window``: each worker is killed uniformly within this many seconds of
        being ready."""
        self.workdir = workdir
        self.kube = kube
        self.alertmanager = alertmanager
        self.database = database
        self.rng = random.Random(seed)
        self.window = window
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.policy = crash_policy(workdir / "policy.yaml")
        self.answers = workdir / "answers"
        self.settled = workdir / "settled"
        for i in range(DEPLOYMENTS):
            kube.put(k8s_objects.deployment(deployment_name(i), NAMESPACE))
        url = database or f"sqlite:///{self.data_dir / 'medic.db'}"
        self._engine = create_engine(url)
        self.report = CrashReport("postgresql" if database else "sqlite")
        self._started = time.monotonic()

    def _args(self) -> list[str]:
        args = ["--data-dir", str(self.data_dir), "--kube", self.kube.url]
        args += ["--alertmanager", self.alertmanager, "--policy", str(self.policy)]
        args += ["--answers", str(self.answers), "--settled", str(self.settled)]
        return args + (["--database", self.database] if self.database else [])

    def cycles(self) -> int:
        with self._engine.connect() as conn:
            try:
                return int(conn.execute(text("SELECT count(*) FROM proposals")).scalar() or 0)
            except Exception:  # no table before the first worker made it
                return 0

    def kill_one(self) -> None:
        """Start a worker, let it run cycles for a random moment, kill it (SIGKILL)."""
        with (self.workdir / "workers.log").open("a") as errors:
            worker = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.crash_worker", "--first",
                 str(self.cycles()), *self._args()],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=errors,
            )  # fmt: skip
        assert worker.stdout is not None
        with worker.stdout:  # poll, not select: any descriptor number (a long suite's are high)
            waiting = select.poll()
            waiting.register(worker.stdout, select.POLLIN)
            ready = waiting.poll(READY_TIMEOUT * 1000)
            line = worker.stdout.readline() if ready else b""
            if line.strip() != b"ready":
                worker.kill()
                worker.wait()
                tail = (self.workdir / "workers.log").read_text()[-2000:]
                raise RuntimeError(f"a crash worker did not start ({line!r}):\n{tail}")
            time.sleep(self.rng.uniform(0.0, self.window))
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        self.report.kills += 1

    def run(self, kills: int = 0, min_cycles: int = 0) -> CrashReport:
        """At least ``kills`` kills, and as many more as it takes to reach ``min_cycles``."""
        while self.report.kills < kills or self.cycles() < min_cycles:
            self.kill_one()
        return self.finish()

    def finish(self) -> CrashReport:
        """One last start settles what the last kill left; then the books are compared."""
        flow = build(self.database, self.data_dir, self.kube.url, self.alertmanager, self.policy)
        for done in flow.settle_interrupted(0.0):
            with self.settled.open("a") as out:
                kind = "ran" if done.ran_now else "judged"
                out.write(f"{done.proposal.id} {kind} {done.proposal.status.value}\n")
        report = self.report
        report.audit_intact = flow.audit.verify().ok
        self._compare(report)
        report.seconds = time.monotonic() - self._started
        return report

    def _compare(self, report: CrashReport) -> None:
        with self._engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status, tool, name, params, outcome FROM proposals")
            ).all()
        scale_writes = self._scale_writes()
        silences = httpx.get(f"{self.alertmanager}/api/v2/silences", timeout=10).json()
        answers = _pairs(self.answers)
        report.cycles, report.answered = len(rows), len(answers)
        report.settled.update(f"{kind} {status}" for _pid, kind, status in _lines(self.settled))
        for pid, status, tool, name, params, outcome in rows:
            report.statuses[status] += 1
            if tool == "scale":
                writes = scale_writes[(name, json.loads(params)["replicas"])]
            else:
                writes = sum(f"(proposal {pid})" in s.get("comment", "") for s in silences)
            problem = _problem(status, outcome, writes, answers.get(pid))
            if problem is None:
                continue
            report.problems.append(f"{pid} {tool} {name}: {problem}")
            if problem.startswith("written"):
                report.double_executions += 1
            elif problem.startswith("stuck"):
                report.stuck_executing += 1
            elif problem.startswith("wrong"):
                report.wrong_verdicts += 1
            else:
                report.lost_approvals += 1

    def _scale_writes(self) -> Counter[tuple[str, int]]:
        return Counter(
            (r.name, int(r.data["spec"]["replicas"]))
            for r in self.kube.requests("PATCH")
            if r.subresource == "scale" and r.params.get("dryRun") is None
        )


def _problem(status: str, outcome: str, writes: int, answered: str | None) -> str | None:
    if writes > 1:
        return f"written {writes} times"
    if status == ProposalStatus.EXECUTING:
        return "stuck executing"
    if status == ProposalStatus.APPROVED:
        return "approved, never executed"
    if answered in (ProposalStatus.SUCCEEDED, ProposalStatus.FAILED) and answered != status:
        return f"answered {answered}, recorded {status}"
    if status == ProposalStatus.SUCCEEDED and writes == 0:
        return "wrong: succeeded without a write"
    if status == ProposalStatus.FAILED and writes and outcome.startswith("interrupted"):
        return "wrong: settled as failed, but the change was made"
    return None


def _lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def _pairs(path: Path) -> dict[str, str]:
    return {parts[0]: parts[1] for parts in _lines(path) if len(parts) == 2}
