"""One Medic process of the crash suite (run as ``python -m tests.reliability.crash_worker``): it
settles what the process before it left behind, says ``ready``, then runs approve -> execute
cycles until it is killed with SIGKILL at a moment it does not know.

Each cycle proposes a change no other cycle makes - ``scale shop/dep-K`` to ``10 + i`` replicas
(more than any deployment starts with, so a scale that was never written never looks done), or a
silence marked with its proposal - so every write the backends receive belongs to one cycle, and
approves it as ``cli:crash``. The answer the person would have seen is appended to ``--answers``
once ``approve`` returns; what the settling did, to ``--settled``.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from kubernetes import client as k8s

from bot.database import state_engine
from tools.actions import Action, Principal
from tools.alertmanager import AlertmanagerSilences
from tools.audit import AuditLog
from tools.backends import Backends, NotConfigured
from tools.clock import SystemClock
from tools.guard import Guard
from tools.kube import KubernetesCluster
from tools.policy import load_policy
from tools.proposals import ProposalStore
from tools.workflow import RemediationWorkflow

DEPLOYMENTS = 8
NAMESPACE = "shop"
CLUSTER = "kube:crash"


def deployment_name(i: int) -> str:
    return f"dep-{i % DEPLOYMENTS}"


def cycle_action(i: int) -> Action:
    """The one change cycle ``i`` makes: most cycles scale, every fourth creates a silence."""
    name = deployment_name(i)
    if i % 4 == 3:
        matchers = {"alertname": f"Crash{i}", "namespace": NAMESPACE, "service": name}
        return Action("silence", NAMESPACE, name, {"matchers": matchers, "duration_minutes": 5})
    return Action("scale", NAMESPACE, name, {"replicas": 10 + i})


def build(
    database: str | None, data_dir: Path, kube: str, alertmanager: str, policy: Path
) -> RemediationWorkflow:
    """The guarded workflow as `medic` builds it on `kube`: the state database with its retries,
    Kubernetes (kmock) and Alertmanager."""
    engine = state_engine(data_dir, database)
    configuration = k8s.Configuration(host=kube)
    configuration.retries = False
    cluster = KubernetesCluster(k8s.ApiClient(configuration), name=CLUSTER)
    backends = Backends(
        cluster, NotConfigured("Redis", "-"), AlertmanagerSilences.from_url(alertmanager)
    )
    proposals = ProposalStore(engine)
    return RemediationWorkflow(
        proposals=proposals,
        guard=Guard(load_policy(policy), cluster, proposals),
        backends=backends,
        clock=SystemClock(),
        audit=AuditLog(engine),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None, help="SQLAlchemy URL; default SQLite")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--kube", required=True)
    parser.add_argument("--alertmanager", required=True)
    parser.add_argument("--policy", type=Path, required=True)
    parser.add_argument("--first", type=int, required=True, help="the first cycle's number")
    parser.add_argument("--answers", type=Path, required=True)
    parser.add_argument("--settled", type=Path, required=True)
    args = parser.parse_args()
    flow = build(args.database, args.data_dir, args.kube, args.alertmanager, args.policy)
    # Only one worker runs at a time and the one before was killed: everything it left
    # executing is interrupted (`medic` waits reconcile.after_seconds to be sure of that).
    with args.settled.open("a") as settled:
        for done in flow.settle_interrupted(0.0):
            kind = "ran" if done.ran_now else "judged"
            settled.write(f"{done.proposal.id} {kind} {done.proposal.status.value}\n")
    print("ready", flush=True)
    with args.answers.open("a", buffering=1) as answers:
        for i in itertools.count(args.first):
            proposed = flow.propose(
                f"CRASH-{i}", cycle_action(i), requested_by="medic:planner", source="crash"
            ).proposal
            result = flow.approve(proposed.id, Principal("cli:crash"), proposed.digest).result
            answers.write(f"{proposed.id} {result.status.value}\n")


if __name__ == "__main__":
    main()
