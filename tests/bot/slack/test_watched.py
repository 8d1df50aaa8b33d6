"""Which channel messages are alerts, and what they say."""

from __future__ import annotations

import re

import pytest

from bot.slack.watched import alert_from_message, posted_at

KNOWN = {"recommender", "checkout"}


def resolve(words: list[str]) -> tuple[str, str] | None:
    return next((("shop", w) for w in words if w in KNOWN), None)


def alertmanager_message(title: str, text: str = "") -> dict[str, object]:
    """What Alertmanager's Slack receiver posts with its default templates."""
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "BALERTMANAGER",
        "text": "",
        "attachments": [{"title": title, "fallback": title, "text": text, "color": "danger"}],
    }


def test_alertmanager_default_format_names_the_alert_and_finds_the_service() -> None:
    alert = alert_from_message(
        alertmanager_message("[FIRING:2] RecommenderLatencyHigh recommender (page eu-west-1)"),
        None,
        resolve,
    )
    assert alert is not None and alert.status == "firing"
    assert alert.labels == {
        "alertname": "RecommenderLatencyHigh",
        "service": "recommender",
        "namespace": "shop",
    }


def test_labels_in_the_text_win_over_guessing() -> None:
    message = alertmanager_message(
        "[FIRING:1] HighErrorRate", "*Labels:*\n• service: checkout\n• namespace: payments"
    )
    alert = alert_from_message(message, None, resolve)
    assert alert is not None
    assert alert.labels["service"] == "checkout" and alert.labels["namespace"] == "payments"


def test_resolved_messages_carry_the_same_labels_as_the_firing_ones() -> None:
    firing = alert_from_message(alertmanager_message("[FIRING:1] Slow recommender"), None, resolve)
    resolved = alert_from_message(
        alertmanager_message("[RESOLVED] Slow recommender"), None, resolve
    )
    assert firing is not None and resolved is not None
    assert resolved.status == "resolved" and resolved.labels == firing.labels
    assert resolved.title == firing.title


def test_chatter_and_unknown_services_are_not_alerts() -> None:
    assert alert_from_message({"text": "lunch anyone?"}, None, resolve) is None
    assert (
        alert_from_message(alertmanager_message("[FIRING:1] DiskFull db-7"), None, resolve) is None
    )


def test_a_configured_pattern_reads_other_alert_formats() -> None:
    pattern = re.compile(r"ALERT (?P<alertname>\w+) on (?P<service>[\w-]+)/(?P<namespace>\w+)")
    alert = alert_from_message(
        {"text": "PagerBot: ALERT LatencyHigh on recommender/shop since 10:02"}, pattern, resolve
    )
    assert alert is not None
    assert alert.labels == {
        "alertname": "LatencyHigh",
        "service": "recommender",
        "namespace": "shop",
    }


@pytest.mark.parametrize(
    ("ts", "started"),
    [
        ("1800000000.000100", "2027-01-15T08:00:00.000100+00:00"),
        ("", "2027-01-15T08:00:00+00:00"),  # none: Medic's clock
        ("not-a-time", "2027-01-15T08:00:00+00:00"),
        ("nan", "2027-01-15T08:00:00+00:00"),
        ("1e300", "2027-01-15T08:00:00+00:00"),  # beyond any calendar
    ],
)
def test_a_watched_alert_starts_when_its_message_was_posted(ts: str, started: str) -> None:
    assert posted_at(ts, now=1_800_000_000.0) == started
