"""Right-sizing you can approve, as the channel sees it: checkout runs six replicas all day for a
load two carry; the watch's heads-up thread carries a real proposal with Approve and Reject.
Someone who may not approve is refused privately; the approver's click scales in once on the
simulated cluster, the message changes in place, and the change is verified (two replicas, all
ready, CPU under the saturation threshold). A second click runs nothing."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.bot.slack.fake_slack import Message
from tests.bot.slack.harness import ALERTS, APPROVER, STRANGER, Medic
from tests.bot.slack.markup_check import unescaped
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.sim import SCENARIOS, SimulatedCluster

WATCHING = {
    "MEDIC_WATCH__ENABLED": "true",
    "MEDIC_WATCH__SERVICES": '["checkout"]',
    "MEDIC_WATCH__INTERVAL_SECONDS": "3600",  # the pass at start only
}


@pytest.fixture
def sim(clock: VirtualClock) -> SimulatedCluster:
    return SimulatedCluster(SCENARIOS["over-provisioned"], clock)


def offered(medic: Medic, within: float = 60.0) -> tuple[Message, Message]:
    """The heads-up root and the reply in its thread with the proposal's buttons."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        medic.settle()
        for root in medic.slack.roots(ALERTS):
            if "Heads-up: checkout" not in root.all_text():
                continue
            with_buttons = [m for m in medic.slack.thread(root.ts) if m.buttons()]
            if with_buttons:
                return root, with_buttons[0]
        time.sleep(0.2)
    raise AssertionError(f"no offer in {within} s: {[m.text for m in medic.slack.roots()]}")


def test_an_over_provisioned_service_is_scaled_in_once_by_an_approver_and_verified(
    start_medic: Callable[..., Medic],
) -> None:
    medic = start_medic(**WATCHING)
    root, offer = offered(medic)
    assert "6 replicas for a load 2 would carry" in root.all_text()
    text = offer.all_text()
    assert "scale deployment shop/checkout: 6 -> 2 replicas" in text
    assert "medic approve" in text
    approve = offer.button("medic_approve", "scale shop/checkout replicas=2")
    flow = medic.service.threads.flow
    (incident,) = [i for i, _pending in flow.open_incidents()]
    assert incident.labels["severity"] == "info"  # the heads-up's own, low-severity incident

    # Not an approver: told so, privately; nothing changes.
    medic.click(offer, approve, STRANGER)
    medic.settle()
    assert "may not approve scale in shop" in medic.slack.ephemeral_texts()[-1]
    assert medic.sim.get_deployment("shop", "checkout").replicas == 6

    # The approver: runs once, the message changes in place, and the change is verified.
    medic.click(offer, approve, APPROVER)
    medic.settle()
    assert medic.sim.get_deployment("shop", "checkout").replicas == 2
    assert f"Approved by <@{APPROVER}>" in offer.all_text() and not offer.buttons()
    said = [m.all_text() for m in medic.slack.thread(root.ts)]
    verdicts = [t for t in said if f"Verification of {incident.id}" in t]
    assert len(verdicts) == 1 and "recovered" in verdicts[0] and "not recovered" not in verdicts[0]
    assert "replicas: 2 wanted 2, 2 ready" in verdicts[0]
    assert "under the 80% the replicas may run at" in verdicts[0]
    assert not flow.is_open(incident.id)  # verified: nothing left to do

    # A second click on the stale button runs nothing.
    medic.click(offer, approve, APPROVER)
    medic.settle()
    assert "already" in medic.slack.ephemeral_texts()[-1]
    (proposal,) = flow.proposals_of(incident.id)
    assert proposal.status is ProposalStatus.SUCCEEDED
    ran = [e for e in flow.workflow.audit.entries() if e.event == "executed"]
    assert len(ran) == 1, ran
    assert unescaped(medic.slack, [APPROVER]) == []


def test_a_rejected_change_changes_nothing_and_ends_the_heads_ups_incident(
    start_medic: Callable[..., Medic],
) -> None:
    medic = start_medic(**WATCHING)
    _root, offer = offered(medic)
    flow = medic.service.threads.flow
    (incident,) = [i for i, _pending in flow.open_incidents()]
    medic.click(offer, offer.button("medic_reject", "scale shop/checkout replicas=2"), APPROVER)
    medic.settle()
    assert f"Rejected by <@{APPROVER}>" in offer.all_text() and not offer.buttons()
    assert medic.sim.get_deployment("shop", "checkout").replicas == 6
    assert not flow.is_open(incident.id)
