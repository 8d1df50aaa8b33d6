"""The replay ledger on the state database (``receiver_deliveries``): what one replica took in,
another - or the same after a restart - knows; bounded in age and rows; an event id is a hashed
identity, never cut (two long ids sharing a prefix are two deliveries)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.receivers import Claim
from bot.slack.deliveries import DeliveryRow, SharedDeliveries
from bot.slack.front import FrontConfig, shared_deliveries
from bot.slack.inbox import AlertInbox
from bot.slack.webhook import WebhookResponse
from tests.bot.receivers import payloads
from tests.bot.receivers.payloads import body, pd_signature
from tests.bot.receivers.test_receivers import PD_SECRET, STARTS, Receivers
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.schema import upgraded


def state(tmp_path: Path) -> Engine:
    return upgraded(create_engine(f"sqlite:///{tmp_path / 'medic.db'}"))


def rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(DeliveryRow)) or 0)


def test_what_one_instance_took_in_another_knows(tmp_path: Path) -> None:
    engine = state(tmp_path)
    SharedDeliveries(engine).remember("P1")
    restarted = SharedDeliveries(engine)
    assert restarted.seen("P1") and not restarted.seen("P2") and not restarted.seen("")


def test_the_ledger_is_bounded_in_age_and_rows(tmp_path: Path) -> None:
    engine = state(tmp_path)
    now = [1_000.0]
    ledger = SharedDeliveries(engine, max_age=100, max_rows=3, clock=lambda: now[0])
    for n in range(5):
        ledger.remember(f"E{n}")
        now[0] += 1
    assert rows(engine) == 3
    assert [ledger.seen(f"E{n}") for n in range(5)] == [False, False, True, True, True]
    now[0] += 200  # past the age bound: taken again, and the old rows go
    assert not ledger.seen("E4")
    ledger.remember("E5")
    assert rows(engine) == 1


def test_two_long_event_ids_sharing_a_prefix_are_two_deliveries(tmp_path: Path) -> None:
    receivers = Receivers(tmp_path)
    for last in "ab":
        payload = payloads.pagerduty(STARTS, event_id="Q" * 5_000 + last)
        payload["event"]["data"]["id"] = f"PGR0VU{last}"
        raw = body(payload)
        answer = receivers.post("pagerduty", raw, **{"X-PagerDuty-Signature": pd_signature(
            raw, PD_SECRET)})  # fmt: skip
        assert answer.status == 200 and "queued" in answer.body, answer.body
    assert len(receivers.queued()) == 2


def test_the_front_process_checks_replays_on_the_state_database(tmp_path: Path) -> None:
    """`medic serve`'s front process answers the receivers: its ledger is the bot's database."""
    SharedDeliveries(state(tmp_path)).remember("P1")  # the bot's SQLite state, migrated
    config = FrontConfig(
        listen_fd=-1, wake_fd=-1, bot_socket="", data_dir=str(tmp_path), token=None,
        max_body_bytes=1000, receivers={"pagerduty": {"enabled": True, "secrets": ["s" * 16]}},
    )  # fmt: skip
    ledger = shared_deliveries(config)
    assert ledger is not None and ledger.seen("P1") and not ledger.seen("P2")
    assert shared_deliveries(config.model_copy(update={"receivers": {}})) is None


class RacingInbox(AlertInbox):
    """Replica A's inbox: while A stores the delivery, the same bytes reach replica B - the
    instant at which a check-then-record ledger lets both through."""

    def __init__(self, inner: AlertInbox, meanwhile: Callable[[], WebhookResponse]) -> None:
        self.__dict__.update(inner.__dict__)
        self._meanwhile = meanwhile
        self.answers: list[WebhookResponse] = []

    def add(self, body: str, source: str, now: float) -> int:
        self.answers.append(self._meanwhile())
        return super().add(body, source, now)


def replica(tmp_path: Path, database: str) -> Receivers:
    """One replica: its own inbox and process, the replay ledger on the shared ``database``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    made = Receivers(tmp_path)
    made.webhooks._seen = SharedDeliveries(upgraded(create_engine(database)))
    return made


def test_two_copies_reaching_two_replicas_at_the_same_instant_are_taken_once(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811  (fixture)
) -> None:
    a, b = replica(tmp_path / "a", postgres_url), replica(tmp_path / "b", postgres_url)
    raw = body(payloads.pagerduty(STARTS))
    headers = {"X-PagerDuty-Signature": pd_signature(raw, PD_SECRET)}
    inbox = RacingInbox(a.inbox, lambda: b.post("pagerduty", raw, **headers))
    a.webhooks._inbox = a.inbox = inbox

    first = a.post("pagerduty", raw, **headers)

    assert first.status == 200 and "queued" in first.body, first.body
    # B is asked to retry while A stores it, not told it was delivered: A may yet die
    assert [r.status for r in inbox.answers] == [503]
    retried = b.post("pagerduty", raw, **headers)  # PagerDuty's retry, once A has stored it
    assert retried.status == 200 and retried.body == {"ignored": "event delivered before"}
    assert len(a.queued()) == 1 and b.queued() == []


class DyingInbox(AlertInbox):
    """Replica A's process killed (kill -9) after it claimed the delivery and before the
    inbox's insert committed: nothing is stored and nothing is released."""

    def __init__(self, inner: AlertInbox) -> None:
        self.__dict__.update(inner.__dict__)

    def add(self, body: str, source: str, now: float) -> int:
        raise SystemExit(137)  # never reaches `release`: a killed process runs no handler


def test_a_replica_killed_between_claim_and_store_loses_no_alert(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811  (fixture)
) -> None:
    now = [1_000.0]
    a, b = replica(tmp_path / "a", postgres_url), replica(tmp_path / "b", postgres_url)
    for made in (a, b):
        made.webhooks._seen = SharedDeliveries(
            upgraded(create_engine(postgres_url)), lease=30, clock=lambda: now[0]
        )
    raw = body(payloads.pagerduty(STARTS))
    headers = {"X-PagerDuty-Signature": pd_signature(raw, PD_SECRET)}
    a.webhooks._inbox = a.inbox = DyingInbox(a.inbox)
    a.webhooks._seen.release = lambda event_id: None  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        a.post("pagerduty", raw, **headers)
    assert a.queued() == []

    now[0] += 5  # PagerDuty's retry, reaching B within the dead claim's lease: retry later
    assert b.post("pagerduty", raw, **headers).status == 503
    now[0] += 60  # the next retry, past the lease: taken, once
    taken = b.post("pagerduty", raw, **headers)
    assert taken.status == 200 and "queued" in taken.body, taken.body
    again = b.post("pagerduty", raw, **headers)
    assert again.status == 200 and again.body == {"ignored": "event delivered before"}
    assert len(b.queued()) == 1


def test_a_claim_past_the_age_bound_or_released_is_taken_again_once(tmp_path: Path) -> None:
    """Past the age bound a delivery is new again, to one replica; a claim released (its
    delivery could not be stored) lets PagerDuty's retry in."""
    now = [1_000.0]
    engine = state(tmp_path)
    a = SharedDeliveries(engine, max_age=100, clock=lambda: now[0])
    b = SharedDeliveries(engine, max_age=100, clock=lambda: now[0])
    assert a.claim("P1") is Claim.TAKEN and a.claim("") is Claim.TAKEN
    assert b.claim("P1") is Claim.PENDING  # not stored yet
    a.stored("P1")
    assert b.claim("P1") is Claim.REPLAYED
    now[0] += 200
    assert b.claim("P1") is Claim.TAKEN and a.claim("P1") is Claim.PENDING
    b.release("P1")
    assert a.claim("P1") is Claim.TAKEN and b.claim("P1") is Claim.PENDING
