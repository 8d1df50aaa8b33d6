"""After a restart, an approval is verified and remembered from the diagnosis that was posted
(kept with the incident), not from a new investigation and plan: no planner (and so no LLM) runs
again, and the verdict is still right either way."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.planners.base import PlanningContext
from bot.planners.combine import Plan
from tests.bot.slack.harness import APPROVER, Medic


def count_planning(medic: Medic) -> list[str]:
    """Every plan and investigation the restarted Medic makes, by incident."""
    flow = medic.service.threads.flow
    made: list[str] = []
    plan, investigate = flow.planner.plan, flow.investigator.investigate

    def planning(context: PlanningContext) -> Plan:
        made.append(f"plan {context.incident_id}")
        return plan(context)

    def investigating(*args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(f"investigation {args[0].id}")
        return investigate(*args, **kwargs)

    flow.planner.plan = planning  # type: ignore[method-assign]
    flow.investigator.investigate = investigating  # type: ignore[method-assign]
    return made


@pytest.mark.parametrize(
    ("approved", "verdict", "remembered"),
    [
        (("replicas", "purge"), "recovered", "resolved"),  # the demo's fix: both
        (("purge",), "not recovered", "not resolved"),  # the cache alone is not the cause
    ],
)
def test_after_a_restart_verification_reads_the_kept_diagnosis(
    start_medic: Callable[..., Medic], approved: tuple[str, ...], verdict: str, remembered: str
) -> None:
    first = start_medic()
    assert first.alert(first.demo_alert()).status_code == 200
    first.settle()
    root = first.root()
    first.service.stop()

    again = start_medic()
    made = count_planning(again)
    diagnosis = again.diagnosis(root)
    for change in approved:
        again.click(diagnosis, diagnosis.button("medic_approve", change), APPROVER)
    again.settle()

    said = [m.text for m in again.slack.thread(root.ts)]
    verdicts = [t for t in said if t.startswith("Verification of INC-0001: ")]
    assert verdicts and verdicts[-1] == f"Verification of INC-0001: {verdict}", said
    memories = [t for t in said if t.startswith("Remembered INC-0001 ")]
    assert memories and memories[-1].startswith(f"Remembered INC-0001 ({remembered})"), said
    assert made == []  # nothing investigated or planned again, so no LLM asked either
