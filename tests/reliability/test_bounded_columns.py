"""Over-long values from outside on PostgreSQL, which refuses a value longer than its column
(StringDataRightTruncation) where SQLite keeps it whole: the alert, the Slack delivery or the
proposal carrying one must never be lost for it, and two long identities sharing a prefix stay
two. The columns are fitted in one place (``tools.schema.fit``): identities hashed, display text
cut."""

from __future__ import annotations

from sqlalchemy import create_engine

from bot.alerts import parse_alerts
from bot.incidents import IncidentStore
from bot.slack.thread_store import ThreadStore
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.actions import Action
from tools.proposals import ProposalStore
from tools.schema import upgraded
from tools.schema.fit import hashed

LONG = "<!channel> " + "x" * 5_000
ALERT = {
    "status": "firing",
    "labels": {"alertname": LONG, "service": LONG, "namespace": LONG},
    "startsAt": "2026-11-28T10:00:00Z",
    "fingerprint": "abc123",
}


def test_an_alert_whose_service_and_namespace_overflow_their_columns_opens_one_incident(
    postgres_url: str,  # noqa: F811
) -> None:
    store = IncidentStore(upgraded(create_engine(postgres_url)))
    alert = parse_alerts(ALERT).alerts[0]
    first, new = store.open_or_attach(alert, service=LONG, namespace=LONG, group_key="g", now=1.0)
    again, new_again = store.open_or_attach(
        alert, service=LONG, namespace=LONG, group_key="g", now=2.0
    )
    assert (new, new_again) == (True, False) and again.id == first.id
    kept = store.get(first.id)
    assert kept is not None and kept.service == hashed(LONG, 253) and kept.alertname == LONG[:253]


def test_two_long_slack_delivery_ids_sharing_a_prefix_are_two_deliveries(
    postgres_url: str,  # noqa: F811
) -> None:
    store = ThreadStore(upgraded(create_engine(postgres_url)))
    a, b = "E" * 300 + "a", "E" * 300 + "b"
    assert [store.first_time(k, 1.0) for k in (a, b, a, b)] == [True, True, False, False]


def test_a_proposal_citing_many_sources_is_recorded(postgres_url: str) -> None:  # noqa: F811
    store = ProposalStore(upgraded(create_engine(postgres_url)))
    sources = ", ".join(f"memory:INC-{n:04d}" for n in range(100))  # 1,700 characters
    proposal = store.create("INC-0001", Action("scale", "shop", "recommender", {"replicas": 6}),
                            source=sources, rationale="r", preview="p", recipe={}, now=1.0,
                            ttl_seconds=900)  # fmt: skip
    kept = store.get(proposal.id)
    assert kept is not None and kept.source == sources[:256]
