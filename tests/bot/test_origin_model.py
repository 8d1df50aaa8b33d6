"""A victim whose origin is an ML service (the slow-model-version scenario): frontend pages on
latency because recommender, which it calls on every page, serves a slower and worse model
version since its alias moved. The origin's model is looked at too, its regression weighs in the
origin's causes, and the model's remedy - champion back one version - is proposed on the origin,
through the guard, ahead of a restart; once done, the origin's quality proxy is verified too."""

from __future__ import annotations

from pathlib import Path

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.views import diagnosis_view
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.sim import SCENARIOS, SimulatedCluster


def test_the_origins_model_is_looked_at_and_its_remedy_proposed_on_it(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    sim = SimulatedCluster(SCENARIOS["slow-model-version"], clock)
    flow = build_sim_flow(load_settings(data_dir=tmp_path / "d"), sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    assert incident.service == "frontend"
    diagnosis, proposals = flow.diagnose(incident)
    inv = diagnosis.investigation

    assert inv.model is None  # frontend serves no model
    look = inv.at_origin
    assert look is not None and look.service == "recommender"
    model = look.model
    assert model is not None and (model.model, model.version) == ("recommender-ranker", "4")
    move = model.alias_move
    assert move is not None and (move.previous, move.version) == ("3", "4")
    assert look.hypotheses[0].cause == "model-regression"
    assert "alias champion moved from version 3 to 4" in look.hypotheses[0].summary

    shown = diagnosis_view(inv, flow.catalog).model  # the thread's section "The model"
    assert shown is not None and shown.headline.plain(str).startswith(
        "At the origin recommender: Serving version 4 of recommender-ranker"
    )

    first = proposals[0]
    assert (first.action.tool, first.action.target) == ("promote_model", "shop/recommender")
    assert first.status is ProposalStatus.PROPOSED  # through the guard, waiting for approval
    assert first.action.params["from_version"] == "4" and first.action.params["version"] == "3"
    assert "restart" not in [p.action.tool for p in proposals[:1]]

    done = flow.decide(first.id, "cli:alice", approve=True, digest=first.digest)
    assert done is not None and done.result.ok, done.result.summary if done else None
    champion = flow.workflow.backends.registry.alias("recommender-ranker", "champion")
    assert champion is not None and champion.version == "3"

    clock.sleep(flow.verification.delay_seconds)
    verification = flow.verify(incident, inv)  # frontend's latency, and the origin's quality
    texts = [c.text for c in verification.checks]
    assert verification.recovered, texts
    assert any(t.startswith("click-through rate back to") for t in texts)
