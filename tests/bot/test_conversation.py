"""The conversation in an incident thread, read like one: questions answered from the evidence,
corrections recognised, and the LLM (a fake chat model) used when configured, with a fallback."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot.alerts import parse_alerts
from bot.config import LLMSettings, load_settings
from bot.conversation import IncidentEvidence, answer, ask_llm, intent_of
from bot.demo import scenario_alert
from bot.diagnosis.changes import Change
from bot.diagnosis.hypotheses import Evidence, Hypothesis
from bot.diagnosis.investigation import Investigation, Window
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.llm.model import bounded
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from knowledge.records import Remediation
from knowledge.templates import TemplateChanges, TemplateStat
from tests.bot.test_diagnosis import finding
from tests.bot.test_planner import similar
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

CATALOG = Glossary()
INCIDENT = Incident(
    id="INC-0007",
    fingerprint="f",
    group_key="g",
    alertname="CheckoutErrorRateHigh",
    service="checkout",
    namespace="shop",
    status="open",
    starts_at=1000.0,
    created_at=1000.0,
    resolved_at=None,
    labels={},
    annotations={"summary": "checkout error ratio above 5%"},
)


def investigation(**fields: object) -> Investigation:
    base: dict[str, object] = {
        "incident_id": INCIDENT.id,
        "window": Window(0.0, 500.0, 1200.0),
        "series": [],
        "findings": [finding("error_ratio", 900)],
        "templates": TemplateChanges([], [], 0),
        "similar": [],
        "hypotheses": [],
        "symptoms": [],
    }
    return Investigation(**(base | fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("why?", "why"),
        ("@medic what is the root cause?", "why"),
        ("what changed?", "what_changed"),
        ("any recent deploys?", "what_changed"),
        ("show logs", "logs"),
        ("what fixed this last time?", "last_time"),
        ("has this happened before?", "last_time"),
        ("root cause was actually the DB pool", "correction"),
        ("it was actually the expired cert, a restart fixed it", "correction"),
        ("thanks!", "help"),
    ],
)
def test_questions_are_understood(text: str, intent: str) -> None:
    assert intent_of(text, CATALOG) == intent


def test_why_is_honest_when_the_evidence_is_weak() -> None:
    weak = Hypothesis("traffic-surge", "Traffic surge", score=0.12)
    reply = answer("why?", IncidentEvidence(INCIDENT, investigation(hypotheses=[weak])), CATALOG)
    assert reply.text.startswith("No clear cause: the evidence is weak.")
    assert "Weak guesses: Traffic surge (0.12)" in reply.text

    strong = Hypothesis(
        "bad-rollout",
        "Bad rollout",
        "rollout of checkout rev 8",
        0.9,
        [Evidence("change", "rollout of checkout rev 8 at 00:15 UTC, as error ratio rose", 0.9)],
    )
    reply = answer(
        "why?", IncidentEvidence(INCIDENT, investigation(hypotheses=[strong, weak])), CATALOG
    )
    assert (
        reply.text.splitlines()[0]
        == "Most likely: Bad rollout: rollout of checkout rev 8 (score 0.90)."
    )
    assert "- change: rollout of checkout rev 8" in reply.text
    assert "Also possible: Traffic surge (0.12)" in reply.text


def test_what_changed_places_each_rollout_relative_to_the_symptoms() -> None:
    changes = [
        Change("checkout", 9, 1500.0, "config", "checksum/config b (was a)", "", True),
        Change("checkout", 8, 780.0, "image", "image c:1.43.0 (was c:1.42.0)", "release", False),
        Change("checkout", 7, -86400.0, "image", "image c:1.42.0 (was c:1.41.0)", "", False),
    ]
    reply = answer(
        "what changed?", IncidentEvidence(INCIDENT, investigation(changes=changes)), CATALOG
    )
    lines = reply.text.splitlines()
    assert "rev 9" in lines[0] and lines[0].endswith("after the symptoms began")
    assert "rev 8" in lines[1] and "2 min before error ratio rose" in lines[1]
    assert "rev 7" in lines[2] and lines[2].endswith("too long before to matter")
    none = answer("what changed?", IncidentEvidence(INCIDENT, investigation()), CATALOG)
    assert none.text == "No rollout of checkout in its recent history (5 revisions read)."


def test_logs_are_quoted_and_past_fixes_listed() -> None:
    stat = TemplateStat("ERROR panic: <*>", "ERROR", 0, 30, 0.0, 6.0, "panic: `boom` <@U123>")
    evidence = IncidentEvidence(
        INCIDENT,
        investigation(
            templates=TemplateChanges([stat], [], 1),
            similar=[similar("PAST-9", 0.8, "resolved", Remediation(tool="rollback"))],
        ),
    )
    logs = answer("show logs", evidence, CATALOG).text
    assert logs == "- [new] 6.0/min, e.g. `panic: 'boom' \u2039@\u200bU123>`"
    last = answer("what fixed this last time?", evidence, CATALOG).text
    assert last == "- PAST-9 (0.80 similar): PAST-9. Done: rollback -> resolved."


def test_a_correction_is_recognised_for_recording() -> None:
    reply = answer(
        "root cause was actually the DB pool", IncidentEvidence(INCIDENT, investigation()), CATALOG
    )
    assert reply.intent == "correction" and reply.correction == ("connection-pool-exhaustion", None)
    assert "the root cause was connection pool exhaustion" in reply.text


def test_the_llm_answers_when_configured_and_falls_back_when_it_fails() -> None:
    evidence = IncidentEvidence(INCIDENT, investigation())
    model = GenericFakeChatModel(messages=iter([AIMessage("The rollout at 00:15 (E1).")]))
    assert ask_llm(bounded(model, LLMSettings()), "why?", evidence, CATALOG) == (
        "The rollout at 00:15 (E1)."
    )

    class Broken(GenericFakeChatModel):
        def invoke(self, *args: object, **kwargs: object) -> AIMessage:  # type: ignore[override]
            raise TimeoutError("read timed out")

    broken = bounded(Broken(messages=itertools.repeat(AIMessage(""))), LLMSettings())
    fallback = ask_llm(broken, "why?", evidence, CATALOG)
    assert fallback.startswith("No clear cause")
    assert "the LLM did not answer: TimeoutError: read timed out" in fallback


@pytest.mark.slow
def test_a_thread_about_a_bad_rollout(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    clock = VirtualClock(1_800_000_000.0)
    sim = SimulatedCluster(SCENARIOS["crash-loop-after-bad-rollout"], clock)
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    incident = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0][0]
    inv = flow.investigate(incident)
    plan = flow.plan(incident, inv)
    assert any(
        line.startswith("pod restarts of shop/checkout: ") and "last Error (exit 2)" in line
        for line in plan.checked
    )
    evidence = IncidentEvidence(incident, inv, plan)

    why = answer("@medic why?", evidence, flow.catalog).text
    assert why.startswith("Most likely: Bad rollout: rollout of checkout rev 8")
    changed = answer("@medic what changed?", evidence, flow.catalog).text
    assert "rev 8" in changed and "image checkout:1.43.0 (was checkout:1.42.0)" in changed
    logs = answer("@medic show logs", evidence, flow.catalog).text
    assert "nil pointer dereference" in logs

    said = "actually it was the coupon feature flag, a rollback fixed it"
    reply = answer(said, evidence, flow.catalog)
    assert reply.correction == ("config-change", "rollback")
    recorded = flow.correct(incident.id, said, "U42")
    assert recorded is not None and recorded.by == "U42"
