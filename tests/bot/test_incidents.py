from __future__ import annotations

from sqlalchemy import create_engine

from bot.alerts import parse_alerts
from bot.incidents import IncidentStore
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.schema import upgraded

ALERT = {
    "status": "firing",
    "labels": {"alertname": "HighLatency", "service": "recommender"},
    "startsAt": "2026-11-28T10:00:00Z",
    "fingerprint": "abc123",
}


def test_same_fingerprint_attaches_while_open_and_opens_anew_once_resolved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = IncidentStore(upgraded(create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")))
    alert = parse_alerts(ALERT).alerts[0]
    first, new1 = store.open_or_attach(
        alert, service="recommender", namespace="shop", group_key="g", now=1.0
    )
    again, new2 = store.open_or_attach(
        alert, service="recommender", namespace="shop", group_key="g", now=2.0
    )
    assert (new1, new2) == (True, False) and again.id == first.id == "INC-0001"
    store.resolve(first.id, now=3.0)
    later, new3 = store.open_or_attach(
        alert, service="recommender", namespace="shop", group_key="g", now=4.0
    )
    assert new3 and later.id == "INC-0002"
    assert store.get("INC-0001").status == "resolved"  # type: ignore[union-attr]
    assert [i.id for i in store.open_incidents()] == ["INC-0002"]


def test_a_fingerprint_longer_than_the_column_still_opens_one_incident_on_postgres(
    postgres_url: str,  # noqa: F811
) -> None:
    # A sender's fingerprint is data: 5,000 characters must neither be refused by PostgreSQL's
    # VARCHAR(64) (the alert would be lost) nor split one alert into several incidents.
    store = IncidentStore(upgraded(create_engine(postgres_url)))
    alert = parse_alerts({**ALERT, "fingerprint": "f" * 4_999 + "1"}).alerts[0]
    other = parse_alerts({**ALERT, "fingerprint": "f" * 4_999 + "2"}).alerts[0]
    first, new1 = store.open_or_attach(
        alert, service="recommender", namespace="shop", group_key="g", now=1.0
    )
    again, new2 = store.open_or_attach(
        alert, service="recommender", namespace="shop", group_key="g", now=2.0
    )
    apart, new3 = store.open_or_attach(
        other, service="recommender", namespace="shop", group_key="g", now=3.0
    )
    assert (new1, new2, new3) == (True, False, True)
    assert again.id == first.id != apart.id


def test_an_absurdly_long_alertname_still_opens_an_incident_on_postgres(
    postgres_url: str,  # noqa: F811
) -> None:
    store = IncidentStore(upgraded(create_engine(postgres_url)))
    name = "<!channel> " + "x" * 5_000
    alert = parse_alerts({**ALERT, "labels": {**ALERT["labels"], "alertname": name}}).alerts[0]
    incident, new = store.open_or_attach(
        alert, service="recommender", namespace="shop", group_key="g", now=1.0
    )
    assert new and store.get(incident.id) is not None
