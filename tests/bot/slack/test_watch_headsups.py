"""The watch in `medic serve`, as the channel sees it: a heads-up thread before any alert, the
alert that follows continuing in it; `/medic watch list|add|remove` for the people who may
approve actions, with hostile service names refused and escaped."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.bot.slack.fake_slack import Message
from tests.bot.slack.harness import ALERTS, APPROVER, STRANGER, Medic
from tests.bot.slack.markup_check import unescaped

WATCHING = {
    "MEDIC_WATCH__ENABLED": "true",
    "MEDIC_WATCH__SERVICES": '["recommender"]',
    "MEDIC_WATCH__INTERVAL_SECONDS": "3600",  # the pass at start only
}


def heads_up(medic: Medic, within: float = 60.0) -> Message:
    """The heads-up root in the alert channel, once the watch's first pass has posted it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        medic.settle()
        found = [m for m in medic.slack.roots(ALERTS) if "Heads-up" in m.all_text()]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no heads-up in {within} s: {[m.text for m in medic.slack.roots()]}")


def test_the_alert_that_follows_a_heads_up_continues_in_its_thread(
    start_medic: Callable[..., Medic],
) -> None:
    medic = start_medic(**WATCHING)
    root = heads_up(medic)
    text = root.all_text()
    assert "*Heads-up: recommender* (shop)" in text and "3 -> 5 replicas" in text
    assert "The guard says: within policy" in text and "Nothing changes unless approved" in text
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3

    medic.alert(medic.demo_alert())
    medic.settle()
    assert [m.ts for m in medic.slack.roots(ALERTS)] == [root.ts]  # no thread of its own
    replies = [m.all_text() for m in medic.slack.thread(root.ts)]
    # INC-0001 is the heads-up's own (its proposed scale-out); the alert's incident is
    # investigated on its own all the same
    assert any("*INC-0001* - the change the watch proposes" in r for r in replies), replies
    assert any("Medic investigated INC-0002" in r for r in replies), replies
    assert unescaped(medic.slack, [APPROVER]) == []


def test_watch_add_list_and_remove_from_slack(medic: Medic) -> None:
    medic.slash("watch list")
    medic.settle()
    assert medic.slack.ephemeral_texts()[-1].startswith("Nothing is watched.")

    medic.slash("watch add checkout")
    medic.settle()
    medic.slash("watch add checkout", user=STRANGER)
    medic.settle()
    added, refused = medic.slack.ephemeral_texts()[-2:]
    assert added.startswith("Now watching checkout in shop")
    assert (
        refused == "Only an approver of actions in shop may change what the watch looks at there."
    )

    medic.slash("watch list")
    medic.settle()
    assert "• checkout (shop)" in medic.slack.ephemeral_texts()[-1]

    medic.slash("watch remove checkout")
    medic.settle()
    medic.slash("watch remove checkout")
    medic.settle()
    removed, again = medic.slack.ephemeral_texts()[-2:]
    assert removed == "No longer watching checkout in shop from Slack."
    assert again == "checkout in shop is not among the services added from Slack."


def test_hostile_service_names_are_refused_in_the_ack_and_escaped(medic: Medic) -> None:
    markup = medic.slash("watch add <!channel>*x*|<https://evil.example|y>").json()
    assert markup["text"].startswith(":warning: `&lt;!channel&gt;*x*|&lt;https://evil")
    assert "is not a Kubernetes name" in markup["text"] and "<!channel>" not in markup["text"]
    huge = medic.slash("watch add " + "a" * 5000).json()
    assert "is not a Kubernetes name" in huge["text"] and len(huge["text"]) < 3000
    medic.slash("watch list")
    medic.settle()
    assert medic.slack.ephemeral_texts()[-1].startswith("Nothing is watched.")
    assert unescaped(medic.slack, [APPROVER]) == []
