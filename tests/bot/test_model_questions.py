"""Questions about the model, answered from the kept look: the three stories (the data changed,
the new model is worse, the model is fine), a service without a model, the origin's model when
the question names it, and a registry's hostile text kept as bounded text."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import IncidentEvidence, answer, intent_of
from bot.diagnosis.at_origin import OriginLook
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.window import Window
from bot.incidents import Incident
from bot.model_questions import MAX_ANSWER, model_question
from bot.slack.blocks.replies import answer_message
from tests.bot.test_conversation import CATALOG
from tests.bot.test_model_diagnosis import (
    FEATURES,
    NOW,
    WINDOW,
    LiveFeatures,
    look_at,
    shop_registry,
)

INCIDENT = Incident(
    id="INC-1", fingerprint="f", group_key="g", alertname="CTRLow", service="recommender",
    namespace="shop", status="open", starts_at=NOW - 900.0, created_at=NOW - 900.0,
    resolved_at=None, labels={}, annotations={},
)  # fmt: skip


def asked(text: str, look: ModelLook | None, at_origin: OriginLook | None = None) -> str:
    inv = Investigation("INC-1", Window(*WINDOW), [], [], None, [], [], [], [], model=look)
    inv = replace(inv, at_origin=at_origin)
    reply = answer(text, IncidentEvidence(INCIDENT, inv), CATALOG)
    assert reply.intent == "model"
    return reply.text


def test_the_questions_are_told_from_the_others() -> None:
    asks = (
        "which model is serving?",
        "what version is it serving?",
        "did inputs drift?",
        "did the predictions move?",
        "why not roll back the model?",
        "why don't you go back to the previous model version?",
        "why not retrain?",
    )
    for text in asks:
        assert intent_of(text, CATALOG) == "model", text
    for text in ("why not checkout?", "what changed?", "what version was deployed?", "why?"):
        assert model_question(text) is None, text


def test_the_new_model_is_worse_going_back_is_the_remedy_retraining_is_not() -> None:
    look = look_at(
        shop_registry(moved_at=WINDOW[1] - 600.0),
        LiveFeatures(dict.fromkeys(FEATURES, 50.0)),
        fell=True,
    )
    back = asked("why not roll back the model?", look)
    assert back.startswith("Going back is the remedy here:") and "go back to version 2" in back
    retrain = asked("why not retrain?", look)
    assert retrain.startswith("Retraining would rerun the pipeline that produced version 3")
    assert asked("did the inputs drift?", look).startswith(
        "No: the 3 features compared are within version 3's training data"
    )


def test_a_model_that_is_fine_is_said_to_be_fine() -> None:
    look = look_at(
        shop_registry(moved_at=NOW - 86400.0), LiveFeatures(dict.fromkeys(FEATURES, 50.0)),
        fell=False,
    )  # fmt: skip
    said = asked("why not roll back the model?", look)
    assert said.startswith("The model is not the cause, so rolling it back would change nothing")
    assert "inputs within version 3's training data" in said


def test_no_model_and_the_origins_model() -> None:
    assert asked("which model is serving?", None).startswith(
        "recommender serves no registered model Medic can see: its pod template has no "
        "medic.io/model label"
    )
    theirs = ModelLook(service="ranker", model="ranker-model", version="5", alias="champion")
    origin = OriginLook("ranker", [], None, [], [], [], [], model=theirs)
    assert asked("which model is ranker serving?", None, origin).startswith(
        "ranker serves ranker-model version 5 (alias champion)"
    )


def test_a_registrys_hostile_text_stays_bounded_text() -> None:
    hostile = "<!channel> *ranker* <https://evil.example|click>"
    look = ModelLook(
        service="recommender",
        model=hostile * 3,
        version="3",
        metrics={f"<@U{i}> metric {'x' * 90}": float(i) for i in range(8)},
        notes=["x" * 5000],
    )
    text = asked("which model is serving?", look)
    assert len(text) <= MAX_ANSWER
    shown = answer_message(text)
    assert "<!channel>" not in str(shown) and "&lt;!channel&gt;" in str(shown)
    assert len(asked("did the inputs drift?", replace(look, compared=0))) <= MAX_ANSWER


def test_an_absurd_time_from_the_registry_is_shown_as_a_number() -> None:
    look = ModelLook(service="recommender", model="m", version="3", alias="champion", since=1e20)
    assert "since 100000000000000000000 (epoch seconds)" in asked("which model is serving?", look)
