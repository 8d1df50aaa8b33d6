"""A right-sizing proposal nobody answered before it expired is offered again while the service
stays over-provisioned: by the next pass that finds it, in the same heads-up thread, once (not
every pass while the new one waits). A rejected one is not asked again (that would be nagging).
The real state database, guard and workflow on the simulated shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.incidents import IncidentStore
from bot.slack.blocks import Message
from bot.watch.findings import Concern, Target, WatchFinding
from bot.watch.proposals import Proposed, WatchProposals
from bot.watch.publish import HeadsUps
from bot.watch.store import WatchStore
from bot.wiring import Wiring
from tests.conftest import START
from tools.actions import Action
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.sim import SCENARIOS, SimulatedCluster
from tools.workflow import RemediationWorkflow

CHANNEL = "C0WATCH"
HOUR = 3600.0
PASS = 300.0  # medic serve's interval

Sent = list[tuple[str, str, Message, bool]]
Offers = list[tuple[str, str, Proposed]]


def over_provisioned() -> WatchFinding:
    return WatchFinding(
        target=Target("shop", "checkout"),
        concern=Concern.OVER_PROVISIONED,
        subject="cpu_utilization_pct",
        level=20.0,
        baseline=6.0,
        confidence=0.9,
        action=Action("scale", "shop", "checkout", {"replicas": 2}),
    )


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def wired(tmp_path: Path, clock: VirtualClock) -> Iterator[tuple[Wiring, RemediationWorkflow]]:
    wiring = Wiring(Settings(cluster="sim", data_dir=tmp_path / "data"))
    sim = SimulatedCluster(SCENARIOS["over-provisioned"], clock)
    workflow = wiring.workflow(wiring.sources(clock, sim).backends, clock)
    yield wiring, workflow
    wiring.close()


def publisher(wired: tuple[Wiring, RemediationWorkflow], sent: Sent, offers: Offers) -> HeadsUps:
    wiring, workflow = wired
    return HeadsUps(
        store=WatchStore(wiring.engine, open_seconds=6 * HOUR),
        deliver=lambda *posted: sent.append(posted),
        channel=CHANNEL,
        max_per_hour=6,
        quiet=None,
        proposals=WatchProposals(IncidentStore(wiring.engine), workflow, 80.0),
        offer=lambda *offered: offers.append(offered),
    )


def test_an_expired_right_sizing_proposal_is_offered_again_once_while_it_still_holds(
    wired: tuple[Wiring, RemediationWorkflow], clock: VirtualClock
) -> None:
    sent: Sent = []
    offers: Offers = []
    headsups = publisher(wired, sent, offers)
    headsups.publish([over_provisioned()], clock.now())
    assert len(offers) == 1
    thread, _channel, first = offers[0]

    # passes within the approval's 15 minutes: the same proposal waits, nothing is asked again
    for _ in range(2):
        clock.sleep(PASS)
        headsups.publish([over_provisioned()], clock.now())
    assert len(offers) == 1

    # nobody answered; the service is still over-provisioned at the next passes
    clock.sleep(2 * PASS)
    again = headsups.publish([over_provisioned()], clock.now())
    assert [p.proposal.id for p in again.proposals] != [first.proposal.id]
    assert len(offers) == 2
    thread_again, _channel, second = offers[1]
    assert thread_again == thread  # in the heads-up's own thread, not a new one
    assert second.again and second.proposal.status is ProposalStatus.PROPOSED
    assert second.proposal.action == first.proposal.action
    assert any(
        "expired unanswered" in m.text and key == thread and not root for key, _c, m, root in sent
    )
    # ... and once: the new proposal waits for its answer
    clock.sleep(PASS)
    headsups.publish([over_provisioned()], clock.now())
    assert len(offers) == 2

    # rejected: not asked again, however long the condition holds
    _wiring, workflow = wired
    workflow.proposals.reject(second.proposal.id, "U0APPROVER", clock.now())
    for _ in range(6):
        clock.sleep(PASS)
        headsups.publish([over_provisioned()], clock.now())
    assert len(offers) == 2
