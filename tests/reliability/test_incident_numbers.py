"""Incident numbers among replicas: several opening the same alert at the same instant open it
once, and the next incident takes the next number - on PostgreSQL an insert that lost the race
advanced the sequence, and users saw INC-0004 follow INC-0002."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.alerts import Alert, parse_alerts
from bot.incidents import IncidentStore
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.schema import upgraded

OPENERS = 4  # replicas taking in each notification at once
ALERTS = 5


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_alerts_opened_by_racing_replicas_are_numbered_without_a_gap(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if database == "postgresql"
        else f"sqlite:///{tmp_path / 'state.db'}"
    )
    engine = upgraded(create_engine(url))
    stores = [IncidentStore(engine) for _ in range(OPENERS)]
    opened: list[tuple[str, bool]] = []
    lock = threading.Lock()
    for n in range(ALERTS):
        alert = parse_alerts({
            "status": "firing",
            "labels": {"alertname": "HighLatency", "service": "recommender", "shard": str(n)},
            "startsAt": "2026-11-28T10:00:00Z",
            "fingerprint": f"fp{n:04d}",
        }).alerts[0]  # fmt: skip
        barrier = threading.Barrier(OPENERS)

        def open_(store: IncidentStore, alert: Alert, barrier: threading.Barrier) -> None:
            barrier.wait(timeout=10)
            incident, new = store.open_or_attach(
                alert, service="recommender", namespace="shop", group_key="g", now=1.0
            )
            with lock:
                opened.append((incident.id, new))

        threads = [threading.Thread(target=open_, args=(s, alert, barrier)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert sum(new for _id, new in opened) == ALERTS  # each opened once, the others attached
    assert sorted({i for i, _new in opened}) == [f"INC-{n:04d}" for n in range(1, ALERTS + 1)]
    engine.dispose()
