"""The guarded path's own cost on the simulated cluster and SQLite: propose (guard + dry run +
proposal + audit entry), approve + execute (approver check, two conditional UPDATEs, dry run,
write, audit entries), and `medic audit verify` over the resulting log.

Prints medians and one JSON line. Usage: python benchmarks/bench_remediation.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

from tools.actions import Action
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.guard import Guard
from tools.policy import load_policy
from tools.proposals import ProposalStore
from tools.schema import upgraded
from tools.sim import SCENARIOS, SimulatedCluster
from tools.workflow import RemediationWorkflow


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = upgraded(create_engine(f"sqlite:///{Path(tmp) / 'state.db'}"))
        clock = VirtualClock(1_800_000_000.0)
        sim = SimulatedCluster(SCENARIOS["input-size-surge"], clock)
        proposals = ProposalStore(engine)
        policy = load_policy().model_copy(update={"cooldown_seconds": 0})
        flow = RemediationWorkflow(
            proposals=proposals,
            guard=Guard(policy, sim, proposals),
            backends=Backends(sim, sim, sim),
            clock=clock,
            audit=AuditLog(engine),
        )
        propose, approve = [], []
        for i in range(args.runs):
            action = Action("scale", "shop", "recommender", {"replicas": 3 + i % 2})
            started = time.perf_counter()
            proposal = flow.propose("BENCH", action, requested_by="medic", source="bench").proposal
            middle = time.perf_counter()
            assert flow.approve(proposal.id, "cli:bench", proposal.digest).result.ok
            propose.append(middle - started)
            approve.append(time.perf_counter() - middle)
        started = time.perf_counter()
        report = flow.audit.verify()
        verify = time.perf_counter() - started
    result = {
        "runs": args.runs,
        "propose_ms_median": round(statistics.median(propose) * 1000, 2),
        "approve_execute_ms_median": round(statistics.median(approve) * 1000, 2),
        "audit_entries": report.entries,
        "audit_verify_ms": round(verify * 1000, 1),
        "audit_ok": report.ok,
    }
    print(f"propose (guard + dry run + record): {result['propose_ms_median']} ms median")
    print(f"approve + execute exactly once:     {result['approve_execute_ms_median']} ms median")
    print(f"audit verify, {report.entries} entries:       {result['audit_verify_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
