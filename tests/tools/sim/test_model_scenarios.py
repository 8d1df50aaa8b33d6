"""The MLOps scenarios play out as their expectations say, with the model in a real (embedded)
MLflow registry: the fix brings click-through and latency back, the tempting remedy does not,
and the registry shows what was done."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.clock import VirtualClock
from tools.registry import RegistryError
from tools.registry.mlflow import MlflowRegistry
from tools.sim import SimulatedCluster
from tools.sim.model_suite import MODEL_SCENARIOS
from tools.sim.scenarios import Scenario
from tools.sim.training import ShopRegistry, shop_registry

START = 1_800_000_000.0
SYMPTOMS = {"latency_p95_ms": 1, "error_ratio": 1, "click_through_rate": -1}
MODEL = "recommender-ranker"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("medic-data")


def medians(sim: SimulatedCluster, start: float, end: float) -> dict[str, float]:
    series = sim.metrics("shop", "recommender", start, end)
    return {s.metric: float(np.median(s.values)) for s in series}


def act(sim: SimulatedCluster, registry: ShopRegistry, tool: str) -> None:
    if tool == "scale":
        sim.scale("shop", "recommender", 2 * sim.get_deployment("shop", "recommender").replicas)
    elif tool == "rollback":
        sim.rollback("shop", "recommender")
    elif tool == "restart":
        sim.restart("shop", "recommender", restarted_at="now")
    elif tool == "purge_cache":
        sim.purge("recommender:*")
    elif tool == "promote_model":
        serving = registry.alias(MODEL, "champion")
        assert serving is not None
        registry.set_alias(MODEL, "champion", str(int(serving.version) - 1))
    else:
        assert tool == "retrain"
        registry.training.start(MODEL)


def played(scenario: Scenario, data_dir: Path, tools: tuple[str, ...]) -> tuple[bool, ShopRegistry]:
    """Whether the symptoms are back to normal 5 minutes after ``tools``, and the registry."""
    clock = VirtualClock(START)
    sim = SimulatedCluster(scenario, clock)
    registry = shop_registry(MlflowRegistry.embedded(data_dir), sim)
    normal = medians(sim, START - 90 * 60, START - 40 * 60)
    for tool in tools:
        act(sim, registry, tool)
    clock.sleep(300)
    after = medians(sim, clock.now() - 180, clock.now())
    recovered = all(
        (after[m] - normal[m]) * sign <= 0.25 * abs(normal[m])
        for m, sign in SYMPTOMS.items()
        if m in normal
    )
    return recovered, registry


@pytest.mark.parametrize("scenario", MODEL_SCENARIOS, ids=lambda s: s.name)
def test_the_fix_works_and_the_tempting_remedy_does_not(scenario: Scenario, data_dir: Path) -> None:
    expected = scenario.expected
    assert expected is not None and expected.fix is not None
    assert not played(scenario, data_dir, ())[0], "the incident must not end on its own"
    assert not played(scenario, data_dir, (expected.tempting, *expected.also))[0]
    assert played(scenario, data_dir, (expected.fix, *expected.also))[0]


def test_drift_is_not_cured_by_any_older_version(data_dir: Path) -> None:
    drift = MODEL_SCENARIOS[0]
    assert not played(drift, data_dir, ("promote_model",))[0]


def test_a_retrain_registers_a_version_trained_on_recent_data_and_deploys_it(
    data_dir: Path,
) -> None:
    drift = MODEL_SCENARIOS[0]
    recovered, registry = played(drift, data_dir, ("retrain",))
    assert recovered
    newest = registry.versions(MODEL)[0]
    assert newest.version == "4" and newest.aliases == ("champion",)
    assert "minutes of traffic" in newest.description
    assert set(newest.metrics) == {"auc", "ndcg_at_10"}
    # read back with MLflow's own client: the alias moved when the run ended (2 min after start)
    client = registry.registry.client()
    assert client.get_model_version_by_alias(MODEL, "champion").version in (4, "4")
    since = registry.alias_since(newest, "champion")
    assert since is not None and since.timestamp() == START + 120
    profile = registry.training_profile(MODEL, "4")
    assert profile is not None and {f.feature for f in profile.features} == {
        "basket_value",
        "session_length",
        "items_viewed",
        "hour_of_day",
    }


def test_the_pipeline_says_how_long_and_what_it_costs_and_finishes(data_dir: Path) -> None:
    clock = VirtualClock(START)
    sim = SimulatedCluster(MODEL_SCENARIOS[0], clock)
    registry = shop_registry(MlflowRegistry.embedded(data_dir), sim)
    training = registry.training
    estimate = training.estimate(MODEL)
    assert estimate.estimate_minutes == 2 and "GPU-hours" in estimate.estimate_cost
    dry = training.start(MODEL, dry_run=True)
    assert dry.status == "dry_run" and registry.versions(MODEL)[0].version == "3"
    run = training.start(MODEL)
    assert training.status(MODEL, run.run_id).status == "started"
    clock.sleep(119)
    assert training.status(MODEL, run.run_id).version == ""
    clock.sleep(2)
    finished = training.status(MODEL, run.run_id)
    assert (finished.status, finished.version) == ("finished", "4")
    with pytest.raises(RegistryError, match="trains only"):
        training.start("another-model")


def test_the_regression_shows_the_alias_move_and_going_back_is_recorded(data_dir: Path) -> None:
    regression = MODEL_SCENARIOS[1]
    clock = VirtualClock(START)
    sim = SimulatedCluster(regression, clock)
    registry = shop_registry(MlflowRegistry.embedded(data_dir), sim)
    serving = registry.alias(MODEL, "champion")
    assert serving is not None and serving.version == "4"
    since = registry.alias_since(serving, "champion")
    assert since is not None and since.timestamp() == START - 20 * 60
    move = registry.set_alias(MODEL, "champion", "3")
    assert (move.previous, move.version) == ("4", "3")
    assert sim.shop_model is not None and sim.shop_model.serving_at(START + 1) is not None
    assert sim.shop_model.serving_at(START + 1).version == "3"  # type: ignore[union-attr]


def test_a_warm_start_reuses_the_seed_and_a_stranger_model_is_refused(data_dir: Path) -> None:
    from tools.sim.training import seed_registry

    overload = MODEL_SCENARIOS[2]
    sim = SimulatedCluster(overload, VirtualClock(START))
    assert sim.shop_model is not None
    registry = MlflowRegistry.embedded(data_dir / "own")
    assert seed_registry(registry, sim.shop_model, START) is True
    assert seed_registry(registry, sim.shop_model, START) is False
    stranger = MlflowRegistry.embedded(data_dir / "stranger")
    stranger.log_training_run(MODEL, params={}, metrics={}, profile=sim.shop_model.profile("1"))
    with pytest.raises(RegistryError, match="not the simulated shop's"):
        seed_registry(stranger, sim.shop_model, START)
    assert [v.version for v in stranger.versions(MODEL)] == ["1"]


def test_live_inputs_match_the_serving_version_until_the_data_changes() -> None:
    from tools.sim.models import psi

    clock = VirtualClock(START)
    sim = SimulatedCluster(MODEL_SCENARIOS[0], clock)
    shop = sim.shop_model
    assert shop is not None
    trained = shop.profile("3")
    before = sim.feature_histograms("shop", "recommender", START - 3600, START - 1800)
    after = sim.feature_histograms("shop", "recommender", START - 600, START)
    for feature in ("basket_value", "session_length", "items_viewed"):
        expected = trained.feature(feature)
        assert expected is not None
        assert psi(expected.counts, before.features[feature].counts) < 0.01
        assert psi(expected.counts, after.features[feature].counts) > 0.25
    hour = trained.feature("hour_of_day")
    assert hour is not None and psi(hour.counts, after.features["hour_of_day"].counts) < 0.01
    assert after.predictions is not None and trained.predictions is not None
    assert after.features["basket_value"].edges == trained.feature("basket_value").edges  # type: ignore[union-attr]
    assert sim.feature_histograms("shop", "checkout", START - 600, START).features == {}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("scenario", MODEL_SCENARIOS, ids=lambda s: s.name)
def test_varied_the_fix_still_works_and_the_tempting_remedy_still_does_not(
    scenario: Scenario, seed: int, data_dir: Path
) -> None:
    """``--vary``: the data shift stronger or weaker and earlier or later, the alias move too."""
    from tools.evaluation.variation import vary

    varied = vary(scenario, seed)
    expected = varied.expected
    assert expected is not None and expected.fix is not None
    assert varied.extra["model"] != scenario.extra["model"] or not varied.extra["model"].moves[1:]
    assert not played(varied, data_dir, (expected.tempting, *expected.also))[0]
    assert played(varied, data_dir, (expected.fix, *expected.also))[0]
