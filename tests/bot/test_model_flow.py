"""The look at the model through the incident flow on the simulated shop: the demo's input-size
surge on recommender, whose pod template names the model it serves. The model is read (version,
drift, quality) and the overload keeps its cause; a service without the label reads nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.alerts import parse_alerts
from bot.config import ModelSettings, load_settings
from bot.demo import scenario_alert
from bot.diagnosis.model import ModelInvestigator
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tests.bot.test_model_diagnosis import (
    FEATURES,
    MODEL,
    NOW,
    LiveFeatures,
    TaggedRegistry,
    shop_registry,
)
from tools.clock import VirtualClock
from tools.registry.base import ALIAS_LABEL, MODEL_LABEL
from tools.sim import SCENARIOS, SimulatedCluster


def ml_shop(clock: VirtualClock) -> SimulatedCluster:
    """The demo's scenario with recommender's pod template naming the model it serves."""
    scenario = SCENARIOS["input-size-surge"]
    services = tuple(
        dataclasses.replace(
            s,
            template_labels={**s.template_labels, MODEL_LABEL: MODEL, ALIAS_LABEL: "champion"},
        )
        if s.name == "recommender"
        else s
        for s in scenario.services
    )
    return SimulatedCluster(dataclasses.replace(scenario, services=services), clock)


def investigate(
    tmp_path: Path,
    clock: VirtualClock,
    embedder: MiniLMEmbedding,
    registry: TaggedRegistry,
    live: LiveFeatures,
    sim: SimulatedCluster,
) -> tuple[list[str], object]:
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    flow.models = ModelInvestigator(registry, live, ModelSettings())
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    investigation = flow.investigate(incident)
    return [h.cause for h in investigation.hypotheses], investigation.model


def test_an_overload_keeps_its_cause_and_the_model_is_read_not_blamed(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    registry = shop_registry(moved_at=NOW - 86400.0)
    live = LiveFeatures(dict.fromkeys(FEATURES, 50.0))
    causes, look = investigate(tmp_path, clock, embedder, registry, live, ml_shop(clock))
    assert causes[0] == "input-size-surge"
    assert "input-drift" not in causes and "model-regression" not in causes
    assert look is not None and look.version == "3" and look.compared == 3  # type: ignore[attr-defined]
    assert live.reads == 1


def test_the_shop_as_it_was_reads_no_registry(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding, sim: SimulatedCluster
) -> None:
    registry = shop_registry(moved_at=NOW - 86400.0)
    live = LiveFeatures({"basket_value": 90.0})
    causes, look = investigate(tmp_path, clock, embedder, registry, live, sim)
    assert look is None and registry.calls == 0 and live.reads == 0
    assert causes[0] == "input-size-surge"
