"""A Slack app distributed to several workspaces signs every install's requests with its one signing
secret: with `slack.team_id` set, a signed slash command, mention or click from another workspace
acts on nothing (403, one line in the log), while the configured workspace is answered as before."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import urlencode

import pytest

from bot.slack.workspace import Workspace
from tests.bot.slack.fake_slack import BOT_USER
from tests.bot.slack.harness import ALERTS, APPROVER, Medic

OURS, THEIRS = "T1", "T0THEIRS"  # the harness's requests come from T1


@pytest.fixture
def medic(start_medic: Callable[..., Medic]) -> Medic:
    return start_medic(MEDIC_SLACK__TEAM_ID=OURS)


def slash(medic: Medic, text: str, team: str) -> int:
    form = {
        "token": "x", "team_id": team, "channel_id": ALERTS, "user_id": APPROVER,
        "command": "/medic", "text": text, "trigger_id": "1.2.3",
        "response_url": f"{medic.slack.url}/response/command",
    }  # fmt: skip
    return medic.signed(urlencode(form), "application/x-www-form-urlencoded").status_code


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "from workspace" in r.getMessage()]


def test_a_slash_command_or_mention_from_another_workspace_is_refused(
    medic: Medic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert slash(medic, "status", THEIRS) == 403
    mention = {
        "type": "event_callback", "team_id": THEIRS, "api_app_id": "A1", "event_id": "EvTheirs",
        "event": {"type": "app_mention", "user": APPROVER, "text": f"<@{BOT_USER}> why?",
                  "ts": "1800000100.000001", "channel": ALERTS, "event_ts": "1800000100.000001"},
    }  # fmt: skip
    assert medic.signed(json.dumps(mention), "application/json").status_code == 403
    medic.settle()
    assert medic.slack.ephemeral_texts() == [] and medic.slack.messages == {}
    assert (
        refusals(caplog)
        == [
            "refused a Slack request from workspace 'T0THEIRS': Medic answers only T1 "
            "(slack.team_id)"
        ]
        * 2
    )

    assert slash(medic, "status", OURS) == 200  # ours: answered as before
    medic.settle()
    assert len(medic.slack.ephemeral_texts()) == 1


def test_a_click_from_another_workspace_decides_nothing(
    medic: Medic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    scale_out = diagnosis.button("medic_approve", "scale shop/recommender replicas=6")
    clicked = medic.click(diagnosis, scale_out, APPROVER, team={"id": THEIRS})
    assert clicked.status_code == 403
    medic.settle()
    assert medic.sim.get_deployment("shop", "recommender").replicas == 3
    assert "Approve" in [b["text"]["text"] for b in diagnosis.buttons()]  # still waiting
    assert len(refusals(caplog)) == 1


def test_an_organisation_is_checked_and_a_request_naming_none_is_refused() -> None:
    org = Workspace(enterprise_id="E1")
    assert org.refusal("T1", "E1") is None and org.refusal("T9", "E1") is None
    assert org.refusal("T1", "E2") == (
        "refused a Slack request from organisation 'E2': Medic answers only E1 "
        "(slack.enterprise_id)"
    )
    assert Workspace(team_id="T1").refusal(None, None) is not None
    assert Workspace().refusal("T9", None) is None  # unset: any workspace, as before
    hostile = "T\n" + "x" * 100  # a payload's id, shown on one line and bounded
    refusal = Workspace(team_id="T1").refusal(hostile, None)
    assert refusal is not None and "\n" not in refusal and len(refusal) < 140
