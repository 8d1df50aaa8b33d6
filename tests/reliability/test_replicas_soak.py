"""The replica suite's long run (`make soak`): three `medic serve` processes on one PostgreSQL and
one Chroma server, 200 notifications over 50 groups each posted to all three at once, one replica
killed (-9) mid-investigation and started again: 0 duplicate incidents, threads or diagnoses, 0
threads without a diagnosis (tests/reliability/replica_run.py; the benchmark is
`benchmarks/bench_reliability.py --parts duplicates`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.replica_run import ReplicaRun
from tests.services.chroma import chroma_url  # noqa: F401  (fixture)
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)


@pytest.mark.soak
def test_three_replicas_and_a_kill_duplicate_nothing_and_lose_nothing(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    chroma_url: str,  # noqa: F811
) -> None:
    run = ReplicaRun(tmp_path / "run", postgres_url, chroma_url, replicas=3, lease_seconds=5)
    report = run.run(groups=50, deliveries=200, kill=True)
    assert report.target_met, report.as_dict()
    assert report.kills == 1 and report.deliveries == 200
