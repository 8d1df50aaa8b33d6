"""`@medic ...` in the alert channel, read like the conversation: questions answered in the
incident's thread from its evidence (and by the chat model when one is configured), corrections
remembered for the next similar incident, a short help anywhere else."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot import messages
from tests.bot.slack.fake_slack import BOT_USER, Message
from tests.bot.slack.harness import ALERTS, APPROVER, Medic


def alert_thread(medic: Medic) -> Message:
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    return medic.root()


def ask(medic: Medic, root: Message, text: str) -> str:
    """Mention Medic with ``text`` in the thread; its answer."""
    before = len(medic.answers(root.ts))
    assert medic.mention(text, thread=root).status_code == 200
    medic.settle()
    answers = medic.answers(root.ts)
    assert len(answers) == before + 1, answers
    return answers[-1]


def test_questions_in_an_incident_thread_are_answered_from_its_evidence(medic: Medic) -> None:
    root = alert_thread(medic)

    why = ask(medic, root, "why?")
    assert why.startswith("Most likely: Input size increase: request payload size up")
    assert "- metric: request payload size up" in why and "Also possible: Cache bloat" in why
    changed = ask(medic, root, "what changed?")
    assert "rollout of recommender rev 7" in changed and "too long before to matter" in changed
    logs = ask(medic, root, "show logs")
    assert "e.g. `Request payload" in logs and "exceeds soft limit" in logs
    last_time = ask(medic, root, "what fixed this last time?")
    assert re.match(r"- PAST-001 \(0\.\d\d similar\)", last_time) and "-> resolved" in last_time
    assert ask(medic, root, "thanks!") == messages.CONVERSATION_HELP


def test_a_correction_in_the_thread_is_used_by_the_next_similar_incident(medic: Medic) -> None:
    # The recommender alert is fixed the way Medic proposed, verified and remembered.
    root = alert_thread(medic)
    diagnosis = medic.diagnosis(root)
    for button in [b for b in diagnosis.buttons() if b["action_id"] == "medic_approve"]:
        medic.click(diagnosis, button, APPROVER)
        medic.settle()
    assert any("Remembered INC-0001 (resolved)" in m.text for m in medic.slack.thread(root.ts))

    # The on-call engineer knows better, and says so in the thread.
    noted = ask(medic, root, "root cause was actually the DB pool; a rollback fixed it")
    assert noted == (
        "Noted: the root cause was connection pool exhaustion and what fixed it was rollback. "
        "I will use it for the next similar incident."
    )
    assert ask(medic, root, "why?").startswith(f"{APPROVER} said: 'root cause was actually")

    # The next similar alert: the corrected incident is evidence for the pool, and its fix is
    # proposed as the people said.
    medic.alert(medic.demo_alert(groupKey="the next day"))
    medic.settle()
    second = medic.slack.roots(ALERTS)[-1]
    text = medic.diagnosis(second).all_text()
    assert "Medic investigated INC-0002" in text
    assert "Connection pool exhaustion: as in INC-0001" in text
    remembered = re.search(
        r"memory: INC-0001 \((\d\.\d\d) similar\)[^\n]*- rollback \(resolved\)", text
    )
    assert remembered is not None and float(remembered[1]) >= 0.9  # the same alert, the next day
    rollback = text[text.index("*roll back deployment shop/recommender") :]
    assert "corrected by U0APPROVER" in rollback and "source: memory:INC-0001" in rollback

    # The postmortem draft names the correction as the root cause.
    medic.slash("postmortem draft INC-0001")
    medic.settle()
    draft = next(f for f in medic.slack.uploaded(root.ts) if f.filename.endswith(".md"))
    root_cause = draft.content.decode().split("## Root cause")[1]
    assert f"Corrected in the thread by {APPROVER}: root cause was actually" in root_cause


def test_a_mention_elsewhere_gets_a_short_help_and_own_or_retried_events_none(
    medic: Medic,
) -> None:
    assert medic.mention("why?").status_code == 200  # at the top of the channel
    medic.settle()
    (asked,) = [m for m in medic.slack.messages.values() if m.thread_ts is not None]
    assert medic.answers(asked.thread_ts or "") == [messages.MENTION_HELP]

    root = alert_thread(medic)
    medic.mention("why?", thread=root, user=BOT_USER)  # Medic's own message
    medic.mention("why?", thread=root, **{"X-Slack-Retry-Num": "1"})  # a retry of a missed one
    medic.settle()
    assert medic.answers(root.ts) == []


def test_a_question_before_the_diagnosis_is_told_to_wait(medic: Medic) -> None:
    release = medic.hold_investigations()
    medic.alert(medic.demo_alert())
    assert medic.service.intake.wait_idle(30) and medic.service.delivery.wait_idle(30)
    root = medic.root()
    assert medic.mention("why?", thread=root).status_code == 200
    assert medic.service.jobs.listeners.wait_idle(30) and medic.service.delivery.wait_idle(30)
    release.set()
    medic.settle()
    assert medic.answers(root.ts) == [messages.MENTION_INVESTIGATING.format(incident="INC-0001")]


def test_after_a_restart_the_evidence_is_rebuilt_without_proposing_again(
    start_medic: Callable[..., Medic],
) -> None:
    first = start_medic()
    root = alert_thread(first)
    proposals = first.service.threads.flow.proposals.for_incident("INC-0001")
    first.service.stop()

    again = start_medic()
    why = ask(again, root, "why?")
    assert why.startswith("Most likely: Input size increase")
    assert again.service.threads.flow.proposals.for_incident("INC-0001") == proposals


def test_the_chat_model_answers_when_configured(start_medic: Callable[..., Medic]) -> None:
    phishing = "Sign in at https://evil.example/login and www.evil.example to restore it (E2)."
    model = GenericFakeChatModel(
        messages=itertools.cycle(
            [AIMessage("The payload surge (E2). <!channel>"), AIMessage(phishing)]
        )
    )
    medic = start_medic(chat_model=model)
    root = alert_thread(medic)
    assert ask(medic, root, "why is it slow?") == "The payload surge (E2). <!channel>"
    raw = [m for m in medic.slack.thread(root.ts) if m.blocks[0].get("block_id") == "answer"]
    assert "&lt;!channel&gt;" in raw[0].blocks[0]["text"]["text"]  # shown, never a ping
    # A link the evidence does not hold is not given in Medic's voice (Slack would make it one).
    linked = ask(medic, root, "why is it slow?")
    assert "evil" not in linked and linked.startswith("Most likely: Input size increase")
    assert "it gives links the evidence does not hold (2)" in linked
    # A correction is still recorded, not handed to the model.
    assert ask(medic, root, "it was actually the DB pool").startswith("Noted: the root cause")
