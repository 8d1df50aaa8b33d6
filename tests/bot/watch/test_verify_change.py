"""Verification of a heads-up's change on the simulated cluster: verified only when the replicas
approved are running and ready and the ones left are not running hot; a scale-in that leaves
them over the threshold, or a change that never took, is not - and says which."""

from __future__ import annotations

from typing import Any

from bot.config import VerificationSettings
from bot.watch.verify import verify_change
from bot.wiring.sources import sim_metric_source
from tests.conftest import START
from tools.actions import Action
from tools.clock import VirtualClock
from tools.proposals import Proposal, ProposalStatus
from tools.sim import SCENARIOS, SimulatedCluster


def scale_in(replicas: int, ceiling: float) -> Proposal:
    recipe: dict[str, Any] = {"watch": {"ceiling_pct": ceiling, "before_pct": 12.0}}
    return Proposal(
        id="p1", incident_id="INC-0001", action=Action("scale", "shop", "checkout",
        {"replicas": replicas}), digest="", status=ProposalStatus.SUCCEEDED, source="watch",
        requested_by="medic:watch", cluster="sim", rationale="", preview="", recipe=recipe,
        created_at=START, expires_at=START + 900, decided_by="U1", decided_at=START,
        started_at=START, finished_at=START, outcome="",
    )  # fmt: skip


def verified(replicas: int, ran: bool, ceiling: float) -> tuple[bool, list[str]]:
    clock = VirtualClock(START)
    sim = SimulatedCluster(SCENARIOS["over-provisioned"], clock)
    if ran:
        sim.scale("shop", "checkout", replicas)
    result = verify_change(
        scale_in(replicas, ceiling),
        sim,
        sim_metric_source(sim, 11_000),
        clock,
        VerificationSettings(delay_seconds=300, window_seconds=180),
    )
    return result.recovered, [c.text for c in result.checks]


def test_a_scale_in_that_took_and_left_the_rest_cool_is_verified() -> None:
    ok, texts = verified(2, ran=True, ceiling=80)
    assert ok and texts[0] == "replicas: 2 wanted 2, 2 ready"
    assert "under the 80% the replicas may run at (before: 12%)" in texts[1]


def test_a_scale_in_that_leaves_the_rest_hot_is_not_verified() -> None:
    ok, texts = verified(1, ran=True, ceiling=50)  # one replica: about 68% CPU
    assert not ok and "over the 50% the replicas may run at" in texts[1]


def test_a_change_that_never_took_is_not_verified() -> None:
    ok, texts = verified(2, ran=False, ceiling=80)
    assert not ok and texts[0] == "replicas: 6 wanted 2, 6 ready"
