"""What changed: a rollout (new image, configuration or model) just before the anomaly, with no
rise in load to explain it, leads to rolling it back - when it is the live revision, which is the
one a rollback undoes."""

from __future__ import annotations

from bot.diagnosis.changes import weigh_changes
from bot.planners.base import Candidate, PlannerResult, PlanningContext, Recipe

CHANGE_PLAN_WEIGHT = 0.8
WORTH_UNDOING = 0.3


class ChangePlanner:
    name = "what-changed"

    def candidates(self, context: PlanningContext) -> PlannerResult:
        result = PlannerResult()
        for change, evidence in weigh_changes(context.changes, context.findings, context.catalog):
            if evidence.weight < WORTH_UNDOING:
                continue
            if not change.live:
                result.notes.append(
                    f"{change.describe()} is no longer live; a rollback would not undo it"
                )
                continue
            result.candidates.append(
                Candidate(
                    Recipe(tool="rollback", why="undo the change that preceded the symptoms"),
                    CHANGE_PLAN_WEIGHT * evidence.weight,
                    f"what-changed:rev {change.revision}",
                    evidence.text,
                )
            )
        return result
