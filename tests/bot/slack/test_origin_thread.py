"""A victim's alert in Slack: frontend pages because checkout is slow. The thread says where it
started, and `@medic why not frontend?` answers from the ranking, also after a restart."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.bot.slack.fake_slack import decode
from tests.bot.slack.harness import Medic
from tests.bot.slack.test_mentions import alert_thread, ask
from tools.clock import VirtualClock
from tools.sim import SimulatedCluster
from tools.sim.victims import VICTIMS

VICTIM = {s.name: s for s in VICTIMS}


@pytest.fixture
def victim() -> str:
    """The victim scenario played (a test parametrizes another): a network delay on checkout's
    pods; frontend, which calls it, pages."""
    return "slow-dependency"


@pytest.fixture
def sim(clock: VirtualClock, victim: str) -> SimulatedCluster:
    return SimulatedCluster(VICTIM[victim], clock)


def test_a_victims_thread_names_the_origin_and_why_not_is_answered_after_a_restart(
    start_medic: Callable[..., Medic],
) -> None:
    first = start_medic()
    root = alert_thread(first)
    assert "frontend" in root.all_text()
    diagnosis = first.diagnosis(root)
    text = diagnosis.all_text()
    assert "Where it started" in text
    assert "Most likely origin: checkout (latency out of the ordinary since " in text
    assert "before frontend's p95 latency rose); frontend calls it and is affected downstream." in (
        text
    )
    assert (
        "*2. frontend* - score" in text and "the alerting service; downstream of checkout" in text
    )
    assert "; likely origin: checkout" in decode(diagnosis.text)  # the notification

    why_not = ask(first, root, "why not frontend?")
    assert why_not.startswith("frontend is number 2 of 3 (score ")
    assert "the most likely origin is checkout" in why_not
    assert "frontend calls checkout and is affected downstream: frontend turned abnormal at " in (
        why_not
    )
    assert "min after checkout did (" in why_not

    first.slash("postmortem draft INC-0001")
    first.settle()
    draft = next(f for f in first.slack.uploaded(root.ts) if f.filename.endswith(".md"))
    root_cause = draft.content.decode().split("## Root cause")[1].split("\n## ")[0]
    started = root_cause.split("**Where it started:** ")[1]
    assert started.startswith("checkout, first deviating at ")

    first.service.stop()
    again = start_medic()  # the ranking comes back from the incidents table
    again.mentions_sent = first.mentions_sent  # Slack's event ids go on, not start again
    assert ask(again, root, "why not frontend?") == why_not
    unknown = ask(again, root, "why not pay<ments>?")
    assert unknown.startswith("'pay<ments' was not among the 3 service(s) I looked at")
    raw = [m for m in again.slack.thread(root.ts) if m.blocks[0].get("block_id") == "answer"]
    assert "pay&lt;ments" in raw[-1].blocks[0]["text"]["text"]  # shown, never markup


@pytest.mark.parametrize("victim", ["cascading-failure"])
def test_in_a_cascade_the_thread_names_the_service_two_calls_away(medic: Medic) -> None:
    root = alert_thread(medic)
    text = medic.diagnosis(root).all_text()
    assert "Most likely origin: payments (" in text
    assert "frontend calls it through 1 other service(s) and is affected downstream." in text
    why_not = ask(medic, root, "why not checkout?")
    assert why_not.startswith("checkout is number ") and "most likely origin is payments" in why_not
    assert "checkout calls payments and is affected downstream: checkout turned abnormal at " in (
        why_not
    )


def test_why_not_asks_in_the_threads_incident_though_x_has_one_of_its_own(medic: Medic) -> None:
    # frontend and checkout both page in one alert group: one thread, two incidents.
    payload = medic.demo_alert()
    frontend = payload["alerts"][0]
    checkout = {**frontend, "labels": {**frontend["labels"], "service": "checkout"},
                "fingerprint": "checkout-alert"}  # fmt: skip
    payload["alerts"] = [frontend, checkout]
    assert medic.alert(payload).status_code == 200
    medic.settle()
    root = medic.root()
    reply = ask(medic, root, "why not checkout?")
    assert reply.startswith("checkout is what I rank first"), reply
    assert "frontend calls it and is affected downstream" in reply  # frontend's incident
