"""Approvers named by Slack user group: a member approves; when Slack cannot say who is in the
group, the person who clicked is told that cause - not "you may not approve" - it is audited,
nothing runs, and a click once Slack answers again works."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.slack.usergroups import Membership, UserGroups
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import Medic
from tests.services.binaries import free_port

MEMBER = "U0GROUPMEMBER"
SRE_ONCALL = {"id": "S0SREONCALL", "handle": "sre-oncall", "users": [MEMBER]}


def test_a_failed_group_lookup_tells_the_clicker_why(medic: Medic) -> None:
    cause = (
        "could not read your Slack user groups: missing_scope (the Slack app needs the "
        "usergroups:read scope"
    )
    medic.slack.usergroups = [SRE_ONCALL]
    medic.slack.fail("usergroups.list", "missing_scope", times=3)
    medic.alert(medic.demo_alert())
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    scale_out = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")

    medic.click(diagnosis, scale_out, MEMBER)
    medic.settle()
    refusal = medic.slack.ephemeral_texts()[-1]
    assert refusal.startswith(f"Not done: {cause}"), refusal
    assert "approvers of scale in shop include the groups @sre-oncall" in refusal
    assert "may not approve" not in refusal
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3
    [entry] = [e for e in medic.service.threads.flow.workflow.audit.entries() if e.actor == MEMBER]
    assert entry.event == "approval_refused"
    assert entry.decision.startswith(f"not done: {cause}")

    medic.slack.faults.clear()  # Slack answers again: the same click works
    medic.click(diagnosis, scale_out, MEMBER)
    medic.settle()
    assert f"Approved by <@{MEMBER}>" in diagnosis.all_text()
    assert medic.sim.get_deployment("shop", "recommender").replicas == 6


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("server_error", "Slack answered HTTP 500 to usergroups.list"),
        ("ratelimited", "Slack answered ratelimited to usergroups.list"),
        ("invalid_auth", "Slack answered invalid_auth to usergroups.list"),
    ],
)
def test_each_slack_failure_is_named(fake_slack: FakeSlack, fault: str, cause: str) -> None:
    fake_slack.usergroups = [SRE_ONCALL]
    fake_slack.fail("usergroups.list", fault, times=3)
    groups = UserGroups(WebClient(base_url=fake_slack.api_url, token="xoxb-test"), enabled=True)
    assert groups.of(MEMBER) == Membership((), cause)
    fake_slack.faults.clear()
    assert groups.of(MEMBER) == Membership(("S0SREONCALL", "sre-oncall"), "")  # asked again


def test_someone_outside_the_groups_is_still_told_they_may_not_approve(medic: Medic) -> None:
    medic.slack.usergroups = [SRE_ONCALL]
    medic.alert(medic.demo_alert())
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    scale_out = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")
    medic.click(diagnosis, scale_out, "U0SOMEONEELSE")
    medic.settle()
    assert "you (U0SOMEONEELSE) may not approve scale in shop" in medic.slack.ephemeral_texts()[-1]


def test_slack_out_of_reach_is_a_cause_too() -> None:
    """Connection refused is not a SlackApiError: it used to escape the click's handler."""
    client = WebClient(base_url=f"http://127.0.0.1:{free_port()}/api/", timeout=2)
    membership = UserGroups(client, enabled=True).of(MEMBER)
    assert membership.groups == ()
    assert membership.unknown.startswith("Slack could not be asked (URLError: ")
