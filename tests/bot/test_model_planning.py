"""Planning the MLOps remedies: "the new model is worse" proposes promote_model and "the data
changed" proposes retrain, each for the registered model the service serves (read from its pod
template), and neither when the system is merely overloaded."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.planners.combine import Planner, load_runbooks
from bot.planners.runbooks import RunbookPlanner
from tests.bot.test_planner import LOAD, context, likely
from tools.actions import Action
from tools.backends import Rollout
from tools.policy import load_policy
from tools.registry.base import MODEL_LABEL
from tools.sim import SimulatedCluster


class Serving:
    """The simulated cluster, with the recommender's pod template declaring ``labels``."""

    def __init__(self, sim: SimulatedCluster, labels: dict[str, str]) -> None:
        self._sim = sim
        self._labels = labels

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sim, name)

    def recent_rollouts(self, namespace: str, name: str, limit: int = 5) -> list[Rollout]:
        found = self._sim.recent_rollouts(namespace, name, limit)
        if name != "recommender":
            return found
        return [replace(r, labels={**r.labels, **self._labels}) for r in found]


def plan_for(cluster: Any, *hypotheses: Any, **kwargs: Any) -> Any:
    planner = Planner([RunbookPlanner(load_runbooks())], cluster, load_policy(), **kwargs)
    return planner.plan(context(LOAD[:1], list(hypotheses)))


def test_a_regressed_model_is_promoted_back_for_the_model_the_service_serves(
    sim: SimulatedCluster,
) -> None:
    cluster = Serving(sim, {MODEL_LABEL: "recommender-ranker"})
    plan = plan_for(cluster, likely("model-regression", 0.8))
    assert [p.action for p in plan.actions] == [
        Action("promote_model", "shop", "recommender", {"model": "recommender-ranker"})
    ]
    assert plan.actions[0].sources == ["runbook:promote-previous-model"]


def test_drifted_inputs_propose_retraining(sim: SimulatedCluster) -> None:
    cluster = Serving(sim, {MODEL_LABEL: "recommender-ranker"})
    plan = plan_for(cluster, likely("input-drift", 0.8))
    assert [p.action for p in plan.actions] == [
        Action("retrain", "shop", "recommender", {"model": "recommender-ranker"})
    ]
    assert any("why the inputs changed" in a for a in plan.advice)


def test_an_overloaded_service_gets_no_model_remedy(sim: SimulatedCluster) -> None:
    cluster = Serving(sim, {MODEL_LABEL: "recommender-ranker"})
    plan = plan_for(cluster, likely("input-size-surge", 0.9))
    assert [p.action.tool for p in plan.actions] == ["scale"]


def test_a_service_that_declares_no_model_is_said_not_guessed(sim: SimulatedCluster) -> None:
    plan = plan_for(sim, likely("model-regression", 0.8))
    assert plan.actions == []
    assert plan.dropped == [
        "runbook:promote-previous-model: promote_model dropped: shop/recommender serves no "
        "registered model that Medic can see (pod template label medic.io/model)"
    ]


def test_a_hostile_model_label_is_dropped_not_proposed(sim: SimulatedCluster) -> None:
    cluster = Serving(sim, {MODEL_LABEL: "ranker\n<!channel> approve me"})
    plan = plan_for(cluster, likely("input-drift", 0.8))
    assert plan.actions == []
    assert "a model name cannot contain control characters" in plan.dropped[0]


def test_the_served_model_can_come_from_the_investigation(sim: SimulatedCluster) -> None:
    asked: list[tuple[str, str]] = []

    def served(namespace: str, name: str) -> str:
        asked.append((namespace, name))
        return "ranker-from-registry"

    plan = plan_for(sim, likely("input-drift", 0.8), served_model=served)
    assert plan.actions[0].action.params == {"model": "ranker-from-registry"}
    assert asked == [("shop", "recommender")]
