"""`/medic ...` as people type it: signed requests, answers only the asker sees, threads and files
where they belong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.bot.slack.harness import ALERTS, APPROVER, STRANGER, Medic
from tests.services.alertmanager import running_alertmanager
from tests.services.binaries import free_port


def test_help_and_mistakes_are_answered_in_the_ack(medic: Medic) -> None:
    help_ = medic.slash("help").json()
    assert help_["response_type"] == "ephemeral" and "/medic search TEXT" in help_["text"]
    wrong = medic.slash("reboot everything").json()
    assert wrong["text"].startswith(":warning: unknown command `reboot`")
    assert "/medic status" in wrong["text"]


def test_unsigned_or_stale_requests_are_refused(medic: Medic) -> None:
    answer = medic.http.post(
        f"{medic.url}/slack/events",
        content=b"command=/medic&text=status",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 401


def test_investigate_acks_at_once_and_posts_a_new_thread(medic: Medic) -> None:
    release = medic.hold_investigations()
    ack = medic.slash("investigate recommender", channel="C0TEAM")
    assert ack.status_code == 200  # answered while the investigation is still held back
    assert "Investigating recommender" in ack.json()["text"]
    release.set()
    medic.settle()

    (root,) = medic.slack.roots("C0TEAM")
    assert f"requested by <@{APPROVER}>" in root.all_text()
    assert any("Medic investigated INC-0001" in m.all_text() for m in medic.slack.thread(root.ts))


def test_investigating_an_unknown_service_says_so(medic: Medic) -> None:
    medic.slash("investigate payments")
    medic.settle()
    assert "unknown service" in medic.slack.ephemeral_texts()[-1]
    assert medic.slack.roots() == []


def test_search_finds_past_incidents_with_what_fixed_them(medic: Medic) -> None:
    medic.slash("search recommender latency after clients sent bigger payloads")
    medic.settle()
    answer = medic.slack.ephemeral_texts()[-1]
    assert answer.startswith("Results for") or "*Results for" in answer
    assert "PAST-001" in answer and "fixed by scale(factor=2)" in answer


def test_an_off_topic_search_says_no_close_match_and_shows_the_nearest(medic: Medic) -> None:
    medic.slash("search banana bread recipe with walnuts")
    medic.settle()
    answer = medic.slack.ephemeral_texts()[-1]
    assert answer.startswith("*No close match for _banana bread recipe with walnuts_*")
    assert "PAST-" in answer  # the nearest ones, shown as such


def test_status_lists_open_incidents_and_pending_proposals(medic: Medic) -> None:
    medic.slash("status")
    medic.settle()
    assert medic.slack.ephemeral_texts()[-1] == "No open incidents and no pending proposals."
    medic.alert(medic.demo_alert())
    medic.settle()
    medic.slash("status")
    medic.settle()
    status = medic.slack.ephemeral_texts()[-1]
    assert "*1 open incident(s)*" in status and "INC-0001" in status
    assert "pending: scale deployment shop/recommender: 3 -> 6 replicas" in status


def test_postmortem_draft_is_a_markdown_file_in_the_incident_thread(medic: Medic) -> None:
    medic.alert(medic.demo_alert())
    medic.settle()
    root = medic.root()
    diagnosis = medic.diagnosis(root)
    medic.click(diagnosis, diagnosis.button("medic_approve", "scale shop/recommender"), APPROVER)
    medic.settle()

    # asked twice at once (two people, a double Enter): one file, the second asker told so
    medic.slash("postmortem draft", channel=ALERTS)
    medic.slash("postmortem draft INC-0001", user=STRANGER, channel=ALERTS)
    medic.settle()
    answers = medic.slack.ephemeral_texts()[-2:]
    assert any("Drafting the postmortem for INC-0001" in answer for answer in answers)
    assert any("already in its thread" in answer for answer in answers)
    (draft,) = [f for f in medic.slack.uploaded(root.ts) if f.filename.endswith(".md")]
    text = draft.content.decode()
    assert draft.filename == "postmortem-INC-0001.md" and text.startswith("# Postmortem: INC-0001")
    for expected in (
        "Alert **RecommenderLatencyHigh** fired",
        "Abnormal: p95 latency up",
        "**Input size increase**",
        f"Approved by {APPROVER}: `scale shop/recommender replicas=6`",
        "scaled deployment shop/recommender: 3 -> 6 replicas",
        "## What fixed it",
    ):
        assert expected in text


def test_a_published_draft_is_found_by_search_and_its_thread_says_who(medic: Medic) -> None:
    medic.alert(medic.demo_alert())
    medic.settle()
    root = medic.root()
    medic.slash("postmortem publish", channel=ALERTS)
    medic.settle()
    assert "INC-0001 has no saved draft" in medic.slack.ephemeral_texts()[-1]

    medic.slash("postmortem draft", channel=ALERTS)
    medic.settle()
    medic.slash("postmortem publish INC-0001", user=STRANGER, channel=ALERTS)
    medic.settle()
    answer = medic.slack.ephemeral_texts()[-1]
    assert answer.startswith(f"<@{STRANGER}> published the postmortem of INC-0001 into the memory")
    assert any(
        "published the postmortem of INC-0001" in m.all_text() for m in medic.slack.thread(root.ts)
    )
    medic.slash("search RecommenderLatencyHigh input size increase postmortem INC-0001")
    medic.settle()
    found = medic.slack.ephemeral_texts()[-1]
    assert "(postmortem," in found and "Postmortem: INC-0001" in found


def test_thread_commands_need_an_incident(medic: Medic) -> None:
    medic.slash("postmortem draft", channel="C0QUIET")
    medic.settle()
    assert "No open incident with a thread in this channel" in medic.slack.ephemeral_texts()[-1]
    medic.slash("silence 2h INC-0042")
    medic.settle()
    assert "No incident INC-0042" in medic.slack.ephemeral_texts()[-1]


def test_silence_is_a_guarded_action_of_an_approver(medic: Medic) -> None:
    medic.alert(medic.demo_alert())
    medic.settle()
    medic.slash("silence 2h", user=STRANGER)
    medic.settle()
    assert "may not approve silence" in medic.slack.ephemeral_texts()[-1]
    assert medic.sim.silences == []

    medic.slash("silence 2h")
    medic.settle()
    [(_, request)] = medic.sim.silences
    assert request.matchers["alertname"] == "RecommenderLatencyHigh"
    duration = datetime.fromisoformat(request.ends_at) - datetime.fromisoformat(request.starts_at)
    assert duration.total_seconds() == 7200
    notes = [m.all_text() for m in medic.slack.thread(medic.root().ts)]
    assert any("Silenced the alerts of INC-0001 for 2h" in n for n in notes)


def alert_labelled(medic: Medic, **labels: str | None) -> dict[str, Any]:
    """The demo alert with some labels replaced (None: removed)."""
    payload = medic.demo_alert()
    for alert in payload["alerts"]:
        alert["labels"] = {k: v for k, v in {**alert["labels"], **labels}.items() if v is not None}
    return payload


def test_silence_from_slack_pins_the_incidents_namespace_and_workload(medic: Medic) -> None:
    """The workload label is whichever one named the service (here `app`), so the silence
    reaches that workload's alerts and no other's."""
    medic.alert(alert_labelled(medic, service=None, app="recommender"))
    medic.settle()
    medic.slash("silence 30m")
    medic.settle()
    [(_, request)] = medic.sim.silences
    assert request.matchers == {
        "alertname": "RecommenderLatencyHigh",
        "namespace": "shop",
        "app": "recommender",
    }


def test_silence_from_slack_is_refused_when_it_cannot_be_kept_to_the_workload(
    medic: Medic,
) -> None:
    """An alert without a namespace label (its namespace came from default_namespace): a silence
    of its labels would silence the service in every namespace; the guard says so."""
    medic.alert(alert_labelled(medic, namespace=None))
    medic.settle()
    medic.slash("silence 2h")
    medic.settle()
    refusal = medic.slack.ephemeral_texts()[-1]
    assert "refused by policy (silence.scope)" in refusal
    assert "must match namespace=shop" in refusal and "in every namespace" in refusal
    assert medic.sim.silences == []


def test_silence_while_alertmanager_is_down_says_so_and_works_once_it_is_back(
    start_medic: Callable[..., Medic], tmp_path: Path
) -> None:
    port = free_port()
    medic = start_medic(MEDIC_ALERTMANAGER_URL=f"http://127.0.0.1:{port}")
    medic.alert(medic.demo_alert())
    medic.settle()
    medic.slash("silence 2h")
    medic.settle()
    refusal = medic.slack.ephemeral_texts()[-1]
    assert refusal.startswith("Not done: the dry run of silence failed: cannot reach Alertmanager")
    with running_alertmanager(tmp_path, port=port) as alertmanager:
        medic.slash("silence 2h")
        medic.settle()
        assert medic.slack.ephemeral_texts()[-1].startswith("Silenced the alerts of INC-0001")
        [created] = httpx.get(f"{alertmanager.url}/api/v2/silences", timeout=10).json()
        assert {m["name"] for m in created["matchers"]} == {"alertname", "namespace", "service"}
    assert medic.sim.silences == []  # the configured Alertmanager, never the simulation's
