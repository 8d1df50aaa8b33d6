"""`@medic` questions about the model in the thread of an ML incident (the model-drift scenario:
the data changed under recommender-ranker): answered from the look the investigation kept -
which version serves, which inputs drifted, why going back a version would not help - never by
the chat model, even when one is configured."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from tests.bot.slack.harness import Medic
from tests.bot.slack.test_mentions import alert_thread, ask
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster


@pytest.fixture
def sim(clock: VirtualClock) -> SimulatedCluster:
    return SimulatedCluster(SCENARIOS["model-drift"], clock)


def test_questions_about_the_model_are_answered_from_the_look(
    start_medic: Callable[..., Medic],
) -> None:
    guess = AIMessage(content="It is version 7 and nothing drifted.")
    medic = start_medic(chat_model=GenericFakeChatModel(messages=itertools.repeat(guess)))
    root = alert_thread(medic)

    serving = ask(medic, root, "which model is serving?")
    assert serving.startswith("recommender serves recommender-ranker version 3 (alias champion")
    assert "The version before it: 2." in serving and "Offline metrics of version 3:" in serving

    drift = ask(medic, root, "did the inputs drift?")
    assert drift.startswith("Yes: against version 3's training data,")
    assert "basket_value (PSI" in drift
    assert "Against version 2's training data:" in drift
    assert "Its outputs: prediction PSI" in drift

    back = ask(medic, root, "why not roll back the model?")
    assert back.startswith(
        "Going back to an earlier version of recommender-ranker would not help: the live inputs "
        "drifted against the training data of every recent version read (3, 2"
    )
    assert "Proposed in this thread: retrain shop/recommender" in back
    retrain = ask(medic, root, "why not just retrain?")
    assert retrain.startswith("Retraining is the remedy here: live inputs drifted against")
    assert all("version 7" not in a for a in (serving, drift, back, retrain))  # not the model's
