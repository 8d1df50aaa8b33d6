"""Two replicas on one PostgreSQL, as behind an Alertmanager HA pair: every notification arrives at
both at the same instant, people click on either. One incident per group and fingerprint, one
thread (one root message), one investigation and one diagnosis, one execution; a replica that dies
mid-investigation is replaced once its lease runs out, and a replica whose clock runs ten
minutes ahead leaves a live lease alone; an investigation that dies twice is dead-lettered, said
once; a group that resolves and fires again is investigated again in its
thread. The long run is `make soak` (test_replicas_soak.py)."""

from __future__ import annotations

import copy
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.fake_slack import FakeSlack, Message
from tests.bot.slack.harness import APPROVER, Medic
from tests.reliability.replicas import Replicas, second_data_dir
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.sim import SimulatedCluster

LEASE = 2.0  # seconds: a dead replica's investigation is taken over this soon
STEADY_LEASE = 30.0  # seconds: long enough that no live holder misses a renewal on a busy machine


@pytest.fixture
def replicas(
    postgres_url: str,  # noqa: F811  (first: the database outlives the replicas)
    start_medic: Callable[..., Medic],  # noqa: F811
    fake_slack: FakeSlack,  # noqa: F811
) -> Iterator[Replicas]:
    second = second_data_dir(Path(os.environ["MEDIC_DATA_DIR"]))
    a = start_medic(MEDIC_DATABASE_URL=postgres_url, MEDIC_INVESTIGATION__LEASE_SECONDS=str(LEASE))
    b = start_medic(MEDIC_DATA_DIR=str(second))
    yield Replicas(a, b, fake_slack)


@pytest.fixture
def steady_replicas(
    postgres_url: str,  # noqa: F811
    start_medic: Callable[..., Medic],  # noqa: F811
    fake_slack: FakeSlack,  # noqa: F811
) -> Iterator[Replicas]:
    second = second_data_dir(Path(os.environ["MEDIC_DATA_DIR"]))
    lease = str(STEADY_LEASE)
    a = start_medic(MEDIC_DATABASE_URL=postgres_url, MEDIC_INVESTIGATION__LEASE_SECONDS=lease)
    b = start_medic(MEDIC_DATA_DIR=str(second))
    yield Replicas(a, b, fake_slack)


def group_alert(
    medic: Medic, shard: int, status: str = "firing", *, earlier: timedelta | None = None
) -> dict[str, Any]:
    """The demo's alert as a group of its own (``shard``), firing or resolved; ``earlier``
    moves its start back (an earlier episode, resolved five minutes after it started)."""
    payload = copy.deepcopy(medic.demo_alert())
    payload["groupKey"] = f'{{}}:{{alertname="RecommenderLatencyHigh", shard="{shard}"}}'
    payload["status"] = status
    for alert in payload["alerts"]:
        alert["labels"]["shard"] = str(shard)
        alert["fingerprint"] = f"{alert['fingerprint'][:12]}{shard:04d}"
        alert["status"] = status
        if earlier is not None:
            starts = datetime.fromisoformat(alert["startsAt"]) - earlier
            alert["startsAt"] = starts.isoformat()
            alert["endsAt"] = (starts + timedelta(minutes=5)).isoformat()
        elif status == "resolved":
            alert["endsAt"] = "2027-01-15T08:00:00Z"
    return payload


def scale_calls(sim: SimulatedCluster) -> list[int]:
    """Record every scale the cluster receives (both replicas share this simulated cluster)."""
    calls: list[int] = []
    scale = sim.scale

    def counted(namespace: str, name: str, replicas: int, *, dry_run: bool = False) -> int:
        if not dry_run:
            calls.append(replicas)
        return scale(namespace, name, replicas, dry_run=dry_run)

    sim.scale = counted  # type: ignore[method-assign]
    return calls


def incident_of(diagnosis: Message) -> str:
    found = re.search(r"Medic investigated (INC-\d+)", diagnosis.text)
    assert found is not None, diagnosis.text
    return found.group(1)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_duplicate_deliveries_make_one_incident_one_thread_one_diagnosis_one_execution(
    replicas: Replicas,
) -> None:
    replicas.side_by_side()
    replicas.count_investigations()
    calls = scale_calls(replicas.a.sim)
    for shard in range(3):
        replicas.deliver(group_alert(replicas.a, shard))
    replicas.settle()

    roots = replicas.roots()
    assert len(roots) == 3, [r.text for r in roots]
    for root in roots:
        assert len(replicas.diagnoses(root)) == 1, [m.text for m in replicas.slack.thread(root.ts)]
    opened = replicas.a.service.threads.flow.incidents.open_incidents()
    assert len(opened) == 3 and len({i.fingerprint for i in opened}) == 3
    # numbered without a gap: the insert that lost the race did not take a number
    assert sorted(i.id for i in opened) == ["INC-0001", "INC-0002", "INC-0003"]
    assert sorted(i for _r, i in replicas.investigated) == sorted(i.id for i in opened)
    for medic in replicas.both:  # no notification failed on either replica (no unique violation)
        assert medic.service.inbox.count("failed") == 0

    # The approver's click reaches both replicas (a retried request, a second person): one runs.
    diagnosis = replicas.diagnoses(roots[0])[0]
    button = diagnosis.button("medic_approve", "scale shop/recommender")
    clicks = [threading.Thread(target=m.click, args=(diagnosis, button, APPROVER))
              for m in replicas.both]  # fmt: skip
    for click in clicks:
        click.start()
    for click in clicks:
        click.join(timeout=60)
    replicas.settle()
    assert len(calls) == 1, calls


def test_a_replica_that_dies_mid_investigation_is_replaced_after_its_lease(
    replicas: Replicas,
) -> None:
    first = threading.Event()

    def first_try_dies(_replica: str, _n: int) -> bool:
        dies = not first.is_set()
        first.set()
        return dies

    replicas.count_investigations(die=first_try_dies)  # the replica taking it over finishes it
    assert replicas.a.alert(group_alert(replicas.a, 0)).status_code == 200
    wait_for(lambda: len(replicas.investigated) >= 1, 60, "nobody started investigating")
    died = replicas.investigated[0]

    root = replicas.roots()[0]
    wait_for(lambda: len(replicas.diagnoses(root)) == 1, 60, "nobody took the investigation over")
    replicas.settle()
    assert len(replicas.diagnoses(root)) == 1
    assert len(replicas.investigated) == 2 and replicas.investigated[1][1] == died[1]
    link = replicas.a.service.threads.store.link_of(died[1])
    assert link is not None and link.investigated and link.attempts == 2


def test_a_replica_whose_clock_runs_ten_minutes_ahead_leaves_a_live_lease_alone(
    steady_replicas: Replicas,
) -> None:
    """Replica b's wall clock is ten minutes ahead of a's and the database's (a VM resumed from
    suspend): a's lease, written by a's clock, looks long expired to it - yet a is alive and
    renewing, so b neither resumes nor takes the investigation: one investigation, one
    diagnosis."""
    replicas = steady_replicas
    holding = threading.Event()

    def a_takes_its_time(replica: str, _n: int) -> bool:
        if replica == "a":
            holding.wait(timeout=30)
        return False

    replicas.count_investigations(die=a_takes_its_time)
    b = replicas.b.service.threads
    b.investigations._wall = lambda: time.time() + 600  # type: ignore[method-assign]
    try:
        assert replicas.a.alert(group_alert(replicas.a, 0)).status_code == 200
        wait_for(lambda: len(replicas.investigated) == 1, 60, "a did not start investigating")
        incident = replicas.investigated[0][1]
        assert b.resume() == 0  # b's sweep: nothing nobody runs
        b.investigate(incident)  # as a copy of the notification would make b try
    finally:
        holding.set()
    replicas.settle()

    assert replicas.investigated == [("a", incident)]
    root = replicas.roots()[0]
    assert len(replicas.diagnoses(root)) == 1


def test_an_investigation_that_dies_twice_is_dead_lettered_and_said_once(
    replicas: Replicas,
) -> None:
    replicas.count_investigations(die=lambda _replica, _n: True)
    assert replicas.b.alert(group_alert(replicas.b, 0)).status_code == 200
    root_found = lambda: len(replicas.roots()) == 1  # noqa: E731
    wait_for(root_found, 60, "no root message")
    root = replicas.roots()[0]
    words = "will not be tried again"
    wait_for(lambda: len(replicas.notes(root, words)) == 1, 60, "no dead-letter note")
    time.sleep(LEASE)  # sweeps on both replicas come and go (one every half lease)
    replicas.settle()

    assert len(replicas.investigated) == 2  # two tries, never a third
    assert len(replicas.notes(root, words)) == 1
    assert replicas.diagnoses(root) == []
    for medic in replicas.both:  # a restart does not resume it either
        assert medic.service.threads.resume() == 0


def test_a_group_that_resolves_and_fires_again_is_investigated_again_in_its_thread(
    replicas: Replicas,
) -> None:
    replicas.deliver(group_alert(replicas.a, 0))
    replicas.settle()
    replicas.deliver(group_alert(replicas.a, 0, "resolved"))
    replicas.settle()
    root = replicas.roots()[0]
    assert "RESOLVED" in root.text and len(replicas.notes(root, "withdrawn")) >= 1

    replicas.deliver(group_alert(replicas.a, 0))
    replicas.settle()

    assert len(replicas.roots()) == 1
    root = replicas.roots()[0]
    assert "FIRING" in root.text
    first, second = (incident_of(m) for m in replicas.diagnoses(root))
    assert first != second  # the new incident, investigated in the same thread
    again = replicas.diagnoses(root)[1]
    assert again.button("medic_approve", "scale shop/recommender")  # something to act on


def test_a_late_resolved_copy_from_before_a_refire_leaves_the_new_incident_firing(
    replicas: Replicas,
) -> None:
    """Replica b lags across a resolve and a refire: the resolved copy it takes in last is older
    than the refire, so the thread stays FIRING and the new incident open."""
    earlier = timedelta(minutes=20)
    replicas.deliver(group_alert(replicas.a, 0, earlier=earlier))
    replicas.settle()
    late = group_alert(replicas.a, 0, "resolved", earlier=earlier)
    assert replicas.a.alert(late).status_code == 200
    replicas.settle()
    assert replicas.a.alert(group_alert(replicas.a, 0)).status_code == 200  # fires again
    replicas.settle()
    root = replicas.roots()[0]
    assert "FIRING" in root.text

    assert replicas.b.alert(late).status_code == 200  # b's copy of the resolve, taken in late
    replicas.settle()

    root = replicas.roots()[0]
    assert "FIRING" in root.text, root.text
    first, second = (incident_of(m) for m in replicas.diagnoses(root))
    incidents = replicas.a.service.threads.flow.incidents
    assert [i.id for i in incidents.open_incidents()] == [second] != [first]
