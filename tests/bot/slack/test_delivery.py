"""The outbox: nothing is lost while Slack is down or rate-limiting, order holds within a thread,
and a refused layout still gets its words through."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.database import sqlite_engine
from bot.messages import SLACK_BLOCKS_REFUSED
from bot.slack.delivery import SlackDelivery
from bot.slack.metrics import BotMetrics
from bot.slack.outbox import ROOT, Outbox
from tests.bot.slack.fake_slack import FakeSlack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(sqlite_engine(tmp_path))


@pytest.fixture
def clock() -> Clock:
    """Wall time for the delivery's retry schedule, moved by the test."""
    return Clock()


@pytest.fixture
def delivery(outbox: Outbox, fake_slack: FakeSlack, clock: Clock) -> SlackDelivery:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, retry_handlers=[])
    return SlackDelivery(outbox, client, BotMetrics(), clock=clock)


def text(value: str) -> dict[str, object]:
    return {
        "text": value,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": value}}],
    }


def test_while_slack_is_down_messages_wait_and_then_arrive_in_order(
    outbox: Outbox, delivery: SlackDelivery, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.is_down = True
    outbox.post("g1", "C1", text("alert"), now=clock.now, ref=ROOT, in_thread=False)
    outbox.post("g1", "C1", text("diagnosis"), now=clock.now, ref="diagnosis:INC-1")
    for _ in range(3):
        delivery.deliver_due()
        clock.now += 600
    assert fake_slack.roots() == []
    assert outbox.counts() == {"pending": 2}

    fake_slack.is_down = False
    while outbox.counts().get("pending"):
        delivery.deliver_due()
        clock.now += 600
    (root,) = fake_slack.roots()
    assert root.text == "alert"
    assert [m.text for m in fake_slack.thread(root.ts)] == ["diagnosis"]


def test_a_rate_limited_call_waits_for_retry_after(
    outbox: Outbox, delivery: SlackDelivery, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.fail("chat.postMessage", "ratelimited", retry_after=30)
    outbox.post("g1", "C1", text("alert"), now=clock.now, ref=ROOT, in_thread=False)
    delivery.deliver_due()
    clock.now += 29
    delivery.deliver_due()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # not retried before Retry-After
    clock.now += 1
    delivery.deliver_due()
    assert [m.text for m in fake_slack.roots()] == ["alert"]


def test_server_errors_are_retried(
    outbox: Outbox, delivery: SlackDelivery, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.fail("chat.postMessage", "server_error", times=2)
    outbox.post("g1", "C1", text("alert"), now=clock.now, ref=ROOT, in_thread=False)
    for _ in range(3):
        delivery.deliver_due()
        clock.now += 600
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    assert [m.text for m in fake_slack.roots()] == ["alert"]


def test_refused_blocks_fall_back_to_the_text(
    outbox: Outbox, delivery: SlackDelivery, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.fail("chat.postMessage", "invalid_blocks")
    outbox.post("g1", "C1", text("alert"), now=clock.now, ref=ROOT, in_thread=False)
    delivery.deliver_due()
    delivery.deliver_due()
    (root,) = fake_slack.roots()
    assert root.text == "alert" + SLACK_BLOCKS_REFUSED and root.blocks == []


def test_a_permanent_error_is_kept_as_dead_with_its_reason(
    outbox: Outbox, delivery: SlackDelivery, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.fail("chat.postMessage", "channel_not_found")
    outbox.post("g1", "C404", text("alert"), now=clock.now, ref=ROOT, in_thread=False)
    delivery.deliver_due()
    ((item, error),) = outbox.dead_items()
    assert item.channel == "C404" and error == "channel_not_found"


def test_updates_waiting_for_slack_collapse_into_one_call(
    outbox: Outbox, delivery: SlackDelivery, fake_slack: FakeSlack, clock: Clock
) -> None:
    outbox.post("g1", "C1", text("1 firing"), now=clock.now, ref=ROOT, in_thread=False)
    delivery.deliver_due()
    fake_slack.is_down = True
    for n in range(2, 12):
        outbox.update("g1", ROOT, "C1", text(f"{n} firing"), now=clock.now)
    delivery.deliver_due()
    fake_slack.is_down = False
    clock.now += 600
    delivery.deliver_due()
    (root,) = fake_slack.roots()
    assert root.text == "11 firing" and root.updates == 1


def test_a_waiting_post_takes_the_update_instead_of_posting_twice(
    outbox: Outbox, delivery: SlackDelivery, fake_slack: FakeSlack, clock: Clock
) -> None:
    outbox.post("g1", "C1", text("1 firing"), now=clock.now, ref=ROOT, in_thread=False)
    outbox.update("g1", ROOT, "C1", text("2 firing"), now=clock.now)
    delivery.deliver_due()
    assert len(fake_slack.calls) == 1
    assert [m.text for m in fake_slack.roots()] == ["2 firing"]


def test_items_caught_mid_delivery_by_a_stop_are_sent_after_restart(
    tmp_path: Path, outbox: Outbox, clock: Clock
) -> None:
    outbox.post("g1", "C1", text("alert"), now=clock.now, ref=ROOT, in_thread=False)
    (item,) = outbox.due(clock.now)
    assert outbox.claim(item.id) is not None  # the process stops here, mid-call
    restarted = Outbox(sqlite_engine(tmp_path))
    assert [i.id for i in restarted.due(clock.now)] == [item.id]
