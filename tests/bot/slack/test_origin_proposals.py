"""frontend pages because a release of checkout crashes: the thread proposes rolling checkout back,
tells frontend's responders why acting on frontend would not help, and the approval acts on
checkout."""

from __future__ import annotations

import pytest

from tests.bot.slack.harness import APPROVER, Medic
from tools.clock import VirtualClock
from tools.sim import SimulatedCluster
from tools.sim.victims import VICTIMS

pytestmark = pytest.mark.slow


@pytest.fixture
def sim(clock: VirtualClock) -> SimulatedCluster:
    """The shop where checkout's release 1.44.0 panics and frontend pages on errors."""
    return SimulatedCluster(next(s for s in VICTIMS if s.name == "dependency-bad-rollout"), clock)


def test_a_victims_thread_proposes_the_fix_on_the_origin_and_approving_it_acts_there(
    medic: Medic,
) -> None:
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    text = diagnosis.all_text()
    assert "frontend is affected downstream of checkout: acting on frontend would not help" in text
    rollback = diagnosis.button("medic_approve", "rollback shop/checkout")
    assert "restart shop/frontend" not in text and "scale shop/frontend" not in text
    before = medic.sim.get_deployment("shop", "checkout").revision

    medic.click(diagnosis, rollback, APPROVER)
    medic.settle()
    assert f"Approved by <@{APPROVER}>" in diagnosis.all_text()
    assert medic.sim.get_deployment("shop", "checkout").revision != before
