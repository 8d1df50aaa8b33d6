"""Alert messages in watched channels get an investigation in their own thread - once, however
often Slack delivers the event, and never for Medic's own messages."""

from __future__ import annotations

from typing import Any

from tests.bot.slack.fake_slack import BOT_ID
from tests.bot.slack.harness import WATCHED, Medic
from tests.conftest import START

ALERT_TS = f"{START - 16 * 60:.6f}"


def alertmanager_post(title: str, ts: str = ALERT_TS, **extra: Any) -> dict[str, Any]:
    """The event for a message from Alertmanager's Slack receiver."""
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "BALERTMANAGER",
        "channel": WATCHED,
        "ts": ts,
        "text": "",
        "attachments": [{"title": title, "fallback": title, "color": "danger"}],
        **extra,
    }


def investigations(medic: Medic) -> float:
    value = medic.service.metrics.registry.get_sample_value(
        "medic_investigations_total", {"result": "ok"}
    )
    return value or 0.0


def test_an_alert_message_is_answered_in_its_thread(medic: Medic) -> None:
    event = alertmanager_post("[FIRING:1] RecommenderLatencyHigh recommender (page)")
    assert medic.event(event, "Ev1").status_code == 200
    medic.settle()
    replies = medic.slack.thread(ALERT_TS)
    assert any("Medic investigated INC-0001" in m.all_text() for m in replies)
    assert all(m.channel == WATCHED for m in replies)
    assert medic.slack.roots() == []  # Medic answers in the alert's thread, it posts no new root


def test_slack_retries_never_start_a_second_investigation(medic: Medic) -> None:
    event = alertmanager_post("[FIRING:1] RecommenderLatencyHigh recommender (page)")
    medic.event(event, "Ev1")
    retry = medic.event(
        event, "Ev1", **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status_code == 200
    medic.event(event, "Ev1")  # a redelivery without the header (as over Socket Mode)
    medic.settle()
    assert investigations(medic) == 1
    assert len([m for m in medic.slack.thread(ALERT_TS) if "investigated" in m.all_text()]) == 1


def test_the_same_alert_again_joins_the_first_thread(medic: Medic) -> None:
    medic.event(alertmanager_post("[FIRING:1] RecommenderLatencyHigh recommender"), "Ev1")
    medic.settle()
    later = f"{START - 10 * 60:.6f}"
    medic.event(alertmanager_post("[FIRING:1] RecommenderLatencyHigh recommender", ts=later), "Ev2")
    medic.settle()
    assert investigations(medic) == 1 and medic.slack.thread(later) == []


def test_chatter_other_channels_and_own_messages_are_ignored(medic: Medic) -> None:
    medic.event({"type": "message", "channel": WATCHED, "user": "U1", "ts": "1.1",
                 "text": "is anyone looking at recommender?"}, "Ev1")  # fmt: skip
    medic.event(alertmanager_post("[FIRING:1] RecommenderLatencyHigh recommender",
                                  channel="C0RANDOM"), "Ev2")  # fmt: skip
    medic.event(alertmanager_post("[FIRING:1] RecommenderLatencyHigh recommender", ts="2.2",
                                  bot_id=BOT_ID), "Ev3")  # fmt: skip
    medic.settle()
    assert investigations(medic) == 0 and medic.slack.messages == {}
