"""The diagnosis assembled once and kept: assembling never rewrites the values it was given, the
planners' evidence and notes join it, and what the incidents table keeps reads back the same
(an unbounded forecast included), so verification and memory after a restart see what was
posted."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.alerts import parse_alerts
from bot.diagnosis.assembly import Diagnosis, assemble
from bot.diagnosis.changes import Change
from bot.diagnosis.hypotheses import Evidence, Hypothesis
from bot.diagnosis.stored import KeptDiagnoses, from_json, to_json
from bot.incidents import IncidentStore
from bot.planners.combine import Plan, PlannedAction, Recipe
from detectors.findings import Forecast
from knowledge.records import Remediation
from knowledge.templates import TemplateChanges, TemplateStat
from tests.bot.test_conversation import CATALOG, INCIDENT, investigation
from tests.bot.test_diagnosis import finding
from tests.bot.test_incidents import ALERT as FIRING
from tests.bot.test_planner import similar
from tools.actions import Action
from tools.schema import upgraded

SCALE = Action("scale", "shop", "checkout", {"replicas": 6})
ALERT = parse_alerts(FIRING).alerts[0]


def evidence() -> tuple[Diagnosis, Plan]:
    bounded = dataclasses.replace(
        finding("p95_latency", 950),
        forecast=Forecast(threshold=1.0, eta=60.0, earliest=30.0, latest=math.inf, slope=0.1),
    )
    inv = investigation(
        findings=[finding("error_ratio", 900)],
        forecasts=[bounded],
        templates=TemplateChanges(
            [TemplateStat("ERROR pool timeout <*>", "ERROR", 0, 40, 0.0, 4.0, "pool timeout 3")],
            [],
            12,
        ),
        similar=[similar("PAST-001", 0.8, "resolved", Remediation(tool="rollback"))],
        hypotheses=[
            Hypothesis("bad-rollout", "Bad rollout", "rev 8", 0.6, [Evidence("change", "r", 0.6)])
        ],
        symptoms=["error ratio up"],
        changes=[Change("checkout", 8, 900.0, "image", "image 1.43", "bump", True)],
    )
    plan = Plan(
        actions=[PlannedAction(SCALE, Recipe(tool="scale", params={"factor": 2}), 0.5, ["r"])],
        checks=[(Action("pod_status", "shop", "checkout"), "runbook:x")],
        notes=["the LLM did not answer"],
        dropped=["llm: scale on kube-system/coredns dropped"],
        evidence=[("config-change", Evidence("llm", "the flag flipped", 0.5), "a flag")],
    )
    return assemble(inv, plan, CATALOG), plan


def test_assembling_joins_the_planners_evidence_and_notes_without_rewriting_its_inputs() -> None:
    inv = investigation(
        hypotheses=[
            Hypothesis("bad-rollout", "Bad rollout", "", 0.6, [Evidence("change", "r", 0.6)])
        ]
    )
    before = dataclasses.replace(inv, hypotheses=[dataclasses.replace(inv.hypotheses[0])])
    plan = Plan(
        notes=["a note"],
        dropped=["x dropped"],
        evidence=[("bad-rollout", Evidence("llm", "the model agrees", 0.5), "the model agrees")],
    )
    diagnosis = assemble(inv, plan, CATALOG)
    assert inv.notes == [] and inv.hypotheses[0].evidence == before.hypotheses[0].evidence
    assert diagnosis.investigation.notes == ["a note", "dropped: x dropped"]
    [top] = diagnosis.investigation.hypotheses
    assert [e.kind for e in top.evidence] == ["change", "llm"] and top.score > 0.6
    with pytest.raises(dataclasses.FrozenInstanceError):
        diagnosis.investigation.notes = []  # type: ignore[misc]


def test_a_kept_diagnosis_reads_back_the_same_without_its_series() -> None:
    diagnosis, plan = evidence()
    back = from_json(to_json(diagnosis))
    assert back.plan == plan
    assert back.investigation == dataclasses.replace(diagnosis.investigation, series=[])
    assert math.isinf(back.investigation.forecasts[0].forecast.latest)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not a stored diagnosis"):
        from_json('{"investigation": {}}')


def test_after_a_restart_the_diagnosis_comes_from_the_incidents_table(tmp_path: Path) -> None:
    engine = upgraded(create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    store = IncidentStore(engine)
    incident, _ = store.open_or_attach(ALERT, service="checkout", namespace="shop",
                                       group_key="g", now=1.0)  # fmt: skip
    diagnosis, _ = evidence()
    made: list[str] = []

    def rebuild(_incident: object) -> Diagnosis:
        made.append("again")
        return diagnosis

    KeptDiagnoses(store).keep(dataclasses.replace(diagnosis, investigation=dataclasses.replace(
        diagnosis.investigation, incident_id=incident.id)))  # fmt: skip
    restarted = KeptDiagnoses(IncidentStore(engine))
    kept = restarted.of(incident, rebuild)
    assert made == [] and kept.investigation.findings == diagnosis.investigation.findings
    assert restarted.of(dataclasses.replace(INCIDENT, id="INC-0099"), rebuild) is diagnosis
    assert made == ["again"]  # never diagnosed before: made once, then kept
