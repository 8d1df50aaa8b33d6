"""Clicks nobody wrote a test for: an Approve button's value carried to another message, another
channel or a message Medic never posted (Slack signs what it sends, but not where a value came
from: a decision counts only on the message where Medic showed that proposal), and a click after
the clock jumped past the proposal's expiry, and a user id Slack never gives (`cli:root`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.bot.slack.fake_slack import Message
from tests.bot.slack.harness import ALERTS, APPROVER, STRANGER, Medic, write_config


def test_an_approval_counts_only_on_the_message_that_shows_it(medic: Medic) -> None:
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    root = medic.root()
    diagnosis = medic.diagnosis(root)
    scale_out = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")
    elsewhere = [
        Message("C0OTHER", diagnosis.ts, "", [], None),  # the same ts in another channel
        Message(ALERTS, root.ts, root.text, root.blocks, None),  # Medic's, but not that one
        Message(ALERTS, "1800009999.000100", "", [], None),  # a message Medic never posted
    ]
    for message in elsewhere:
        assert medic.click(message, scale_out, APPROVER).status_code == 200
        medic.settle()
        said = medic.slack.ephemeral_texts()[-1]
        assert said.startswith("Not done: this button is not on the message where Medic"), said
        assert "INC-0001" in said
        assert medic.sim.get_deployment("shop", "recommender").replicas == 3
    assert "Approve" in [b["text"]["text"] for b in diagnosis.buttons()]  # still waiting

    # The same value on the diagnosis itself: approved, run once.
    medic.click(diagnosis, scale_out, APPROVER)
    medic.settle()
    assert medic.sim.get_deployment("shop", "recommender").replicas == 6
    assert "scaled deployment shop/recommender: 3 -> 6 replicas" in diagnosis.all_text()


def test_a_click_after_the_clock_jumped_past_expiry_runs_nothing_and_ends_the_buttons(
    medic: Medic,
) -> None:
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    scale_out = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")
    ttl = medic.service.threads.flow.workflow.guard.policy.approval_ttl_seconds
    medic.service.threads.flow.clock.sleep(ttl + 3600)  # the machine's clock jumps ahead
    medic.slash("status")
    medic.settle()
    status = medic.slack.ephemeral_texts()[-1]
    assert "INC-0001" in status and "pending" not in status  # none can be approved any more
    medic.click(diagnosis, scale_out, APPROVER)
    medic.settle()
    assert "the proposal expired at" in medic.slack.ephemeral_texts()[-1]
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3
    assert "Expired: scale deployment shop/recommender: 3 -> 6 replicas" in diagnosis.all_text()
    assert not any("replicas=6" in b["confirm"]["text"]["text"] for b in diagnosis.buttons())


def test_a_proposal_left_undecided_past_its_expiry_loses_its_buttons_without_a_click(
    start_medic: Callable[..., Medic],
) -> None:
    """Nobody answered before the approval expired: the diagnosis says so and offers no
    Approve for it, so nobody finds out only by clicking (the buttons stayed until a click)."""
    medic = start_medic(MEDIC_RECONCILE__INTERVAL_SECONDS="0.2")
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    assert any("replicas=6" in b["confirm"]["text"]["text"] for b in diagnosis.buttons())
    ttl = medic.service.threads.flow.workflow.guard.policy.approval_ttl_seconds
    medic.service.threads.flow.clock.sleep(ttl + 1)
    deadline = time.monotonic() + 60
    while "Expired: scale deployment shop/recommender" not in diagnosis.all_text():
        assert time.monotonic() < deadline, diagnosis.all_text()
        time.sleep(0.1)
    medic.settle()
    assert not any("replicas=6" in b["confirm"]["text"]["text"] for b in diagnosis.buttons())
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3


def test_a_click_by_a_user_id_slack_never_gives_is_not_a_cli_user(
    start_medic: Callable[..., Medic], tmp_path: Path
) -> None:
    """The shipped policy admits `cli:*` (whoever runs `medic` on the machine): a request
    claiming the user id `cli:root` is no Slack user, and approves nothing."""
    config = write_config(tmp_path / "cli-approvers.yaml")
    policy = config.with_name("policy.yaml")
    rules = yaml.safe_load(policy.read_text())
    rules["approvers"] = [{"users": ["cli:*"]}]
    policy.write_text(yaml.safe_dump(rules))
    medic = start_medic(MEDIC_CONFIG=str(config))
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    scale_out = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")
    medic.click(diagnosis, scale_out, "cli:root")
    medic.settle()  # one answer at a time: the two are told in whichever order they finish
    approve = medic.slack.ephemeral_texts()[-1]
    medic.slash("silence 2h", user="cli:root")
    medic.settle()
    silence = medic.slack.ephemeral_texts()[-1]
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3
    assert medic.sim.silences == []
    assert "you (not-a-slack-user) may not approve scale in shop" in approve
    assert "you (not-a-slack-user) may not approve silence in shop" in silence


def test_a_click_whose_response_url_is_not_text_is_refused_at_once(
    medic: Medic, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt answers a clicker through the payload's ``response_url``; an object there failed
    only when Medic answered (a refusal), after the ack, as an error in the log and no answer
    (the HTTP fuzzer found it). It is a malformed request: 400, nothing decided."""
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    button = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")
    answer = medic.click(
        diagnosis, button, STRANGER, response_url={"url": f"{medic.slack.url}/response/click"}
    )
    medic.settle()
    assert answer.status_code == 400 and "response_url must be a string" in answer.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3
