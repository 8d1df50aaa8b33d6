"""Prediction (output) drift is weighed, not only shown: outputs that moved while the inputs did
not say the model changed (after an alias move: go back one version) or how it is served did;
outputs that moved with the inputs say the data changed; inputs that moved while neither the
outputs nor the quality did weigh less."""

from __future__ import annotations

from bot.diagnosis.assembly import with_context
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model_evidence import model_evidence
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.window import Window
from tests.bot.test_conversation import CATALOG
from tests.bot.test_model_diagnosis import (
    FEATURES,
    NOW,
    WINDOW,
    LiveFeatures,
    ctr,
    hypotheses,
    look_at,
    shop_registry,
)

DRIFTED = {"basket_value": 85.0, "items_in_cart": 50.0, "session_minutes": 51.0}


def evidence(look: ModelLook | None) -> tuple[str, float, str]:
    [(cause, found, text)] = model_evidence(look)
    return cause, found.weight, text


def test_outputs_moved_after_the_alias_moved_with_inputs_as_trained_is_the_new_model() -> None:
    """Quality has not fallen (yet): before, the look gave no cause at all."""
    registry = shop_registry(moved_at=WINDOW[1] - 600.0)
    look = look_at(
        registry, LiveFeatures(dict.fromkeys(FEATURES, 50.0), predictions=75.0), fell=False
    )
    assert look is not None and look.predictions is not None and look.predictions.drifted
    cause, _, text = evidence(look)
    assert cause == "model-regression"
    assert "its outputs moved away from its training predictions (PSI" in text
    assert text.endswith("go back to version 2")
    assert hypotheses(ctr(False)[1], look)[0] == "model-regression"


def test_outputs_moved_without_an_alias_move_is_the_serving_that_changed() -> None:
    registry = shop_registry(moved_at=NOW - 86400.0)
    look = look_at(
        registry, LiveFeatures(dict.fromkeys(FEATURES, 50.0), predictions=75.0), fell=True
    )
    cause, _, text = evidence(look)
    assert cause == "model-change"
    assert "while its inputs stayed within its training data and its alias did not move" in text
    assert hypotheses(ctr(True)[1], look)[0] == "model-change"
    same = look_at(registry, LiveFeatures(dict.fromkeys(FEATURES, 50.0)), fell=True)
    assert model_evidence(same) == []  # outputs as trained: the model is not blamed


def test_outputs_that_moved_with_the_inputs_weigh_the_data_changed_up() -> None:
    registry = shop_registry(moved_at=NOW - 86400.0)
    both = look_at(registry, LiveFeatures(DRIFTED, predictions=75.0), fell=False)
    inputs_only = look_at(registry, LiveFeatures(DRIFTED, predictions=40.0), fell=False)
    cause, moved, text = evidence(both)
    assert cause == "input-drift" and "its outputs moved with them" in text
    cause, still, text = evidence(inputs_only)
    assert cause == "input-drift" and "its outputs stayed within its training predictions" in text
    assert moved > still + 0.3  # the drift the answers do not show weighs less

    def score(look: ModelLook | None) -> float:
        inv = Investigation("I", Window(*WINDOW), [], [], None, [], [], [], [])
        weighed = with_context(
            inv, changes=[], change_note="", corrections={}, catalog=CATALOG,
            min_similarity=0.45, model=look,
        )  # fmt: skip
        return next(h.score for h in weighed.hypotheses if h.cause == "input-drift")

    assert score(both) > score(inputs_only)  # the thread's ranking uses it
