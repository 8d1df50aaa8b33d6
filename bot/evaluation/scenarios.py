"""The scenario suite through the whole path - intake, investigation, what changed, planning and
the guard - with the LLM off: is the right remedy proposed first, the right cause named first, and
the service where the fault started named as the origin (``named_origin``, what the thread says)?

Every run - each scenario and each ``--vary`` copy - has its own simulated cluster and its own
fresh data directory (state database, template state, the sample memory only). A shared state
database let a varied copy's alert, which has the same labels and so the same fingerprint, join
the previous run's still-open incident: its window then started from that incident's start, a day
earlier, and the copy was not investigated as the variation it claims to be.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.alerts import parse_alerts
from bot.config import Settings
from bot.demo import scenario_alert
from bot.diagnosis.at_origin import named_origin
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.origins import Origins
from bot.wiring import build_sim_flow, embedding_model
from knowledge.embeddings import MiniLMEmbedding
from tools.actions import Action
from tools.clock import VirtualClock
from tools.evaluation import vary
from tools.proposals import ProposalStatus
from tools.sim import Scenario, SimulatedCluster

START = 1_800_000_000.0  # a fixed clock: the suite's results do not depend on the day it runs


@dataclass
class ScenarioResult:
    name: str
    fix: str | None
    tempting: str
    causes: tuple[str, ...]
    proposals: list[dict[str, Any]]
    hypotheses: list[dict[str, Any]]
    remediation_rank: int | None  # 1-based rank of the fix; for "no fix", 1 when nothing proposed
    hypothesis_rank: int | None
    planning_ms: float
    advice: list[str] = field(default_factory=list)
    origin: str = ""  # where the fault started: the expected origin, else the alerting service
    origin_rank: int | None = None  # its 1-based rank among the investigation's origins
    origins: list[dict[str, Any]] = field(default_factory=list)  # the first few, as ranked
    window_minutes: float = 0.0  # the suspect window the investigation judged

    def to_json(self) -> dict[str, Any]:
        return self.__dict__ | {"causes": list(self.causes)}


def is_fix(action: Action, scenario: Scenario, replicas: int) -> bool:
    """Whether ``action`` is the expected fix on the workload where the fault started (a
    victim's fix acts on its origin; ``replicas``: the origin's before any action)."""
    expected = scenario.expected
    assert expected is not None
    if (action.tool, action.namespace, action.name) != (
        expected.fix,
        scenario.namespace,
        scenario.origin,
    ):
        return False
    return action.tool != "scale" or int(action.params.get("replicas", 0)) > replicas


def origin_rank(
    origins: Origins, service: str, origin: str, model: ModelLook | None = None
) -> int | None:
    """1 when the thread names ``origin`` as where the fault started (``named_origin``: the
    alerting ``service`` unless clear evidence leads elsewhere); otherwise its rank among the
    ranked origins, at best 2 as it was not the one named; None when it is not among them (an
    investigation that ranked nothing has not found it either)."""
    if named_origin(origins, service, model) == origin:
        return 1
    names = [o.service for o in origins.ranked]
    return max(2, names.index(origin) + 1) if origin in names else None


def run_scenario(
    scenario: Scenario, settings: Settings, embedder: MiniLMEmbedding, start: float = START
) -> ScenarioResult:
    expected = scenario.expected
    assert expected is not None
    clock = VirtualClock(start)
    sim = SimulatedCluster(scenario, clock)
    flow = build_sim_flow(settings, sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(scenario, sim.anchor)))[0]
    replicas = sim.get_deployment(scenario.namespace, scenario.origin).replicas
    diagnosis, proposed = flow.diagnose(incident)
    investigation, plan = diagnosis.investigation, diagnosis.plan
    proposals = [p for p in proposed if p.status is not ProposalStatus.REFUSED]
    if expected.fix is None:
        remediation = 1 if not proposals else None
    else:
        remediation = next(
            (i for i, p in enumerate(proposals, 1) if is_fix(p.action, scenario, replicas)), None
        )
    causes = [h.cause for h in investigation.hypotheses]
    hypothesis = next((i for i, c in enumerate(causes, 1) if c in expected.causes), None)
    return ScenarioResult(
        name=scenario.name,
        fix=expected.fix,
        tempting=expected.tempting,
        causes=expected.causes,
        proposals=[
            {
                "tool": p.action.tool,
                "service": p.action.name,
                "params": p.action.params,
                "source": p.source,
            }
            for p in proposals
        ],
        hypotheses=[{"cause": h.cause, "score": h.score} for h in investigation.hypotheses[:4]],
        remediation_rank=remediation,
        hypothesis_rank=hypothesis,
        planning_ms=round(plan.seconds * 1000, 2),
        advice=plan.advice,
        origin=scenario.origin,
        origin_rank=origin_rank(
            investigation.origins, scenario.service, scenario.origin, investigation.model
        ),
        origins=[
            {"service": o.service, "score": o.cause.score, "downstream_of": o.downstream_of}
            for o in investigation.origins.ranked[:4]
        ],
        window_minutes=round((investigation.window.end - investigation.window.split) / 60.0, 1),
    )


def run_suite(
    scenarios: Sequence[Scenario],
    settings: Settings,
    embedder: MiniLMEmbedding | None = None,
    variants: int = 0,
) -> list[ScenarioResult]:
    """Every scenario, then ``variants`` varied copies of each (stronger or weaker, shifted in
    time, on another day so the noise differs); each run in its own data directory (see the
    module docstring: nothing of one run is seen by the next)."""
    embedder = embedder or embedding_model()
    runs = [(s, START) for s in scenarios]
    runs += [(vary(s, i), START + 86400.0 * i) for i in range(1, variants + 1) for s in scenarios]
    results = []
    with tempfile.TemporaryDirectory(prefix="medic-scenarios-") as tmp:
        for n, (scenario, start) in enumerate(runs):
            isolated = settings.model_copy(
                update={"data_dir": Path(tmp) / f"run-{n}", "database_url": None}
            )
            results.append(run_scenario(scenario, isolated, embedder, start))
    return results


def summarise(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    def share(ranks: list[int | None], k: int) -> float:
        return round(sum(1 for r in ranks if r is not None and r <= k) / len(ranks), 3)

    remediation = [r.remediation_rank for r in results]
    hypothesis = [r.hypothesis_rank for r in results]
    origin = [r.origin_rank for r in results]
    return {
        "scenarios": len(results),
        "remediation": {"top1": share(remediation, 1), "top3": share(remediation, 3)},
        "hypothesis": {"top1": share(hypothesis, 1), "top3": share(hypothesis, 3)},
        "origin": {"top1": share(origin, 1), "top3": share(origin, 3)},
    }
