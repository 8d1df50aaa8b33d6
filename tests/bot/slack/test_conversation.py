"""Scenario tests that read like the conversation in the alert channel."""

from __future__ import annotations

import copy
import threading
import time

from bot.diagnosis.investigation import Investigation
from bot.diagnosis.verification import Verification
from bot.incidents import Incident
from tests.bot.slack.harness import ALERTS, APPROVER, STRANGER, Medic
from tools.proposals import ProposalStatus


def test_alert_becomes_a_thread_that_an_approver_fixes_once(medic: Medic) -> None:
    # Alertmanager posts the recommender's latency alert.
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()

    # One thread in the alert channel, its diagnosis with Approve / Reject buttons.
    root = medic.root()
    assert "[FIRING:1] RecommenderLatencyHigh" in root.all_text()
    diagnosis = medic.diagnosis(root)
    assert "Input size increase" in diagnosis.all_text()
    # The merged plan: each proposal's planners, and which planners ran.
    assert "source: runbook:scale-out-on-load, memory:PAST-001" in diagnosis.all_text()
    assert "planned by runbooks, memory, what-changed, llm (off: " in diagnosis.all_text()
    labels = [b["text"]["text"] for b in diagnosis.buttons()]
    assert labels.count("Approve") >= 2 and labels.count("Reject") == labels.count("Approve")
    charts = list(medic.slack.uploaded(root.ts))
    assert charts and charts[0].content.startswith(b"\x89PNG")

    # Someone who is not an approver clicks Approve: told so, privately; nothing changes.
    scale_out = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")
    assert medic.click(diagnosis, scale_out, STRANGER).status_code == 200
    medic.settle()
    assert "may not approve scale in shop" in medic.slack.ephemeral_texts()[-1]
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3
    assert diagnosis.updates == 0

    # The approver approves scaling out: the message changes in place, the action runs once.
    assert medic.click(diagnosis, scale_out, APPROVER).status_code == 200
    medic.settle()
    text = diagnosis.all_text()
    assert (
        f"Approved by <@{APPROVER}>" in text
        and "scaled deployment shop/recommender: 3 -> 6 replicas" in text
    )
    assert medic.sim.get_deployment("shop", "recommender").replicas == 6

    # A second click on the same (stale) button is refused privately and runs nothing.
    medic.click(diagnosis, scale_out, APPROVER)
    medic.settle()
    assert "already" in medic.slack.ephemeral_texts()[-1]
    assert medic.sim.get_deployment("shop", "recommender").replicas == 6


def test_an_approved_action_the_cooldown_stops_is_shown_refused(medic: Medic) -> None:
    # Two alert groups for the recommender (two regions), each with its own scale-out proposal.
    first = medic.demo_alert()
    second = copy.deepcopy(first)
    second["groupKey"] = first["groupKey"] + "-us"
    second["alerts"][0]["fingerprint"] = "us-east-1-latency"
    second["alerts"][0]["labels"]["region"] = "us-east-1"
    for payload in (first, second):
        assert medic.alert(payload).status_code == 200
    medic.settle()
    roots = medic.slack.roots(ALERTS)
    assert len(roots) == 2
    diagnoses = [medic.diagnosis(root) for root in roots]
    buttons = [d.button("medic_approve", "scale shop/recommender replicas=6") for d in diagnoses]

    # The first is approved and runs; approving the second would scale again within the
    # cooldown: the clicker is told why, and the second thread shows the proposal refused
    # instead of "executing" or live buttons.
    medic.click(diagnoses[0], buttons[0], APPROVER)
    medic.settle()
    assert medic.sim.get_deployment("shop", "recommender").replicas == 6
    medic.click(diagnoses[1], buttons[1], APPROVER)
    medic.settle()
    assert "cooldown" in medic.slack.ephemeral_texts()[-1]
    text = diagnoses[1].all_text()
    assert "refused by policy: cooldown: scale already ran on shop/recommender" in text
    assert not [
        b
        for b in diagnoses[1].buttons()
        if "scale shop/recommender replicas=6" in b["confirm"]["text"]["text"]
    ]
    assert "executing" not in text


def wait_until_both_ran(medic: Medic) -> None:
    """Until two of INC-0001's actions have succeeded (at most a minute)."""
    proposals = medic.service.threads.flow.proposals
    deadline = time.monotonic() + 60
    while sum(p.status is ProposalStatus.SUCCEEDED for p in proposals.for_incident("INC-0001")) < 2:
        assert time.monotonic() < deadline, "the second approval did not run"
        time.sleep(0.05)


def test_two_quick_approvals_get_one_verdict_and_one_memory(medic: Medic) -> None:
    medic.alert(medic.demo_alert())
    medic.settle()
    root = medic.root()
    diagnosis = medic.diagnosis(root)
    approves = [b for b in diagnosis.buttons() if b["action_id"] == "medic_approve"]
    assert len(approves) >= 2

    # The first action's verification is still waiting when the second action runs.
    flow = medic.service.threads.flow
    verify, waiting, release = flow.verify, threading.Event(), threading.Event()

    def held(incident: Incident, investigation: Investigation) -> Verification:
        waiting.set()
        release.wait(timeout=120)  # a guard against a hang: the test sets it
        return verify(incident, investigation)

    flow.verify = held  # type: ignore[method-assign]
    medic.click(diagnosis, approves[0], APPROVER)
    assert waiting.wait(timeout=60)
    medic.click(diagnosis, approves[1], APPROVER)
    wait_until_both_ran(medic)
    # the second click's handler has asked for verification too (it does so after recording)
    assert medic.service.jobs.listeners.wait_idle(30)
    release.set()
    medic.settle()

    said = [m.text for m in medic.slack.thread(root.ts)]
    assert sum("Remembered INC-0001" in t for t in said) == 1, said
    assert sum(t.startswith("Verification") for t in said) == 1, said


def test_an_approval_while_a_verdict_is_posted_gets_the_last_word(medic: Medic) -> None:
    """The second fix runs after the first one's verdict was measured but before it was
    remembered: the thread's last verdict and memory are the ones that cover both fixes (they
    were once the stale first one's, posted last: the demo's fix remembered as not resolved)."""
    medic.alert(medic.demo_alert())
    medic.settle()
    root = medic.root()
    diagnosis = medic.diagnosis(root)

    flow = medic.service.threads.flow
    remember, remembering, release = flow.remember, threading.Event(), threading.Event()

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not remembering.is_set():  # only the first verdict's memory waits
            remembering.set()
            release.wait(timeout=120)  # a guard against a hang: the test sets it
        return remember(*args, **kwargs)

    flow.remember = held  # type: ignore[method-assign]
    medic.click(diagnosis, diagnosis.button("medic_approve", "replicas"), APPROVER)
    assert remembering.wait(timeout=60)
    medic.click(diagnosis, diagnosis.button("medic_approve", "purge"), APPROVER)
    wait_until_both_ran(medic)
    assert medic.service.jobs.listeners.wait_idle(30)
    time.sleep(0.5)  # room for a verification racing the held one (what the old code did)
    release.set()
    medic.settle()

    said = [m.text for m in medic.slack.thread(root.ts)]
    verdicts = [t for t in said if t.startswith("Verification of INC-0001: ")]
    assert verdicts == [
        "Verification of INC-0001: not recovered",  # the scale-out alone
        "Verification of INC-0001: recovered",  # with the purge
    ], said
    memories = [t for t in said if t.startswith("Remembered INC-0001 ")]
    assert memories[-1].startswith("Remembered INC-0001 (resolved)"), said
    incident = flow.incidents.get("INC-0001")
    assert incident is not None and incident.status == "resolved"
