"""Memory: the remedies of the most similar past incidents, read through people's corrections,
weighted by similarity and by outcome (a remedy that did not resolve counts against itself), and
by whether the past incident's cause fits this one: a past cause that today's metrics contradict
lends its remedies nothing. A remedy that acted on another workload (the origin of a fault that
paged the service) is proposed on that workload again, not on the service that paged."""

from __future__ import annotations

from bot.diagnosis.corrections import corrected
from bot.planners.base import Candidate, PlannerResult, PlanningContext, Recipe

MEMORY_WEIGHT = 0.5
OUTCOME_SIGN = {"resolved": 1.0, "not_resolved": -1.0, "unknown": 0.3}
UNRELATED_CAUSE = 0.5  # the past cause is not among today's likely ones (nor contradicted)
LIKELY = 0.2


class MemoryPlanner:
    name = "memory"

    def candidates(self, context: PlanningContext) -> PlannerResult:
        result = PlannerResult()
        for match in context.similar:
            if match.similarity < context.min_similarity:
                continue
            correction = context.corrections.get(match.record.id)
            record = corrected(match.record, correction)
            today = context.hypothesis(record.cause)
            if today is not None and any(e.kind == "against" for e in today.evidence):
                continue
            fits = 1.0 if today is not None and today.score >= LIKELY else UNRELATED_CAUSE
            sign = OUTCOME_SIGN[record.outcome]
            verb = "fixed" if sign > 0 else "did not fix"
            note = f", corrected by {correction.by}" if correction else ""
            for remedy in record.remediation:
                if remedy.tool is None:
                    continue
                workload = remedy.workload or context.service
                result.candidates.append(
                    Candidate(
                        Recipe(tool=remedy.tool, params=remedy.params),
                        MEMORY_WEIGHT * match.similarity * sign * fits,
                        f"memory:{record.id}",
                        f"{verb} {record.id} ({match.similarity:.2f} similar{note})",
                        target=(context.namespace, workload),
                    )
                )
        return result
