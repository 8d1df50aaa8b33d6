"""The crash suite: Medic processes killed with SIGKILL at seeded random moments across approve ->
execute cycles, on SQLite and on PostgreSQL, each next process settling what the last one left.
After the last: 0 double executions (counted at the Kubernetes API and in Alertmanager), 0 lost
approvals, 0 actions left executing, 0 wrong verdicts, the audit chain intact. The default run
kills a handful; `make soak` kills many more (and `benchmarks/reliability/crash.py` >= 200
cycles)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.crash import CrashReport, CrashRun
from tests.services.alertmanager import running_alertmanager
from tests.services.kube import KubeApi, kube_api  # noqa: F401  (fixture)
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "am").mkdir()
    with running_alertmanager(tmp_path / "am") as running:
        yield running.url


def crash(tmp_path: Path, kube: KubeApi, alertmanager: str, url: str | None, kills: int) -> None:
    run = CrashRun(tmp_path / "run", kube, alertmanager, database=url, seed=kills)
    report: CrashReport = run.run(kills=kills)
    assert report.target_met, report.as_dict()
    assert report.cycles > kills  # the kills fell across cycles, not only at start-up


def test_kill_9_across_cycles_on_sqlite(
    tmp_path: Path,
    kube_api: KubeApi,  # noqa: F811
    alertmanager: str,
) -> None:
    crash(tmp_path, kube_api, alertmanager, None, kills=4)


@pytest.mark.slow
def test_kill_9_across_cycles_on_postgres(
    tmp_path: Path,
    kube_api: KubeApi,  # noqa: F811
    alertmanager: str,
    postgres_url: str,  # noqa: F811
) -> None:
    crash(tmp_path, kube_api, alertmanager, postgres_url, kills=4)


@pytest.mark.soak
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_kill_9_across_many_cycles(
    tmp_path: Path,
    kube_api: KubeApi,  # noqa: F811
    alertmanager: str,
    database: str,
    request: pytest.FixtureRequest,
) -> None:
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    crash(tmp_path, kube_api, alertmanager, url, kills=40)
