"""A diagnosis drawn on logs kept in Loki or Elasticsearch: the simulated shop's certificate
expiry, its lines served by the loopback stores (tests/services/log_stores.py) instead of the
cluster, named as the cause from those lines; a store that is down is one note, and the
investigation goes on with its metrics."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.diagnosis.investigation import Investigation
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tests.services.binaries import free_port
from tests.services.log_stores import FakeElasticsearch, FakeLoki, LokiEntry, serving
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

pytestmark = pytest.mark.slow
NS = 1_000_000_000


def shop() -> tuple[SimulatedCluster, VirtualClock]:
    clock = VirtualClock(time.time())
    return SimulatedCluster(SCENARIOS["certificate-expiry"], clock), clock


def investigate(
    tmp_path: Path,
    embedder: MiniLMEmbedding,
    sim: SimulatedCluster,
    clock: VirtualClock,
    **logs: object,
) -> Investigation:
    settings = load_settings(data_dir=tmp_path / "data", logs=logs)
    flow = build_sim_flow(settings, sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    return flow.investigate(incident)


def log_evidence(investigation: Investigation) -> list[str]:
    top = investigation.hypotheses[0]
    return [e.text for e in top.evidence if e.kind == "logs"]


def test_a_diagnosis_draws_on_lokis_lines(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    sim, clock = shop()
    lines = sim.logs("shop", "checkout", clock.now() - 4 * 3600, clock.now())
    fake = FakeLoki(
        entries=[
            LokiEntry(
                int(line.timestamp * NS),
                {"namespace": "shop", "app": "checkout", "pod": line.pod},
                f"{line.level} {line.message}",
            )
            for line in lines
        ]
    )
    with serving(fake) as url:
        investigation = investigate(tmp_path, embedder, sim, clock, source="loki", url=url)
    assert fake.requests, "Loki was not asked"
    assert investigation.hypotheses[0].cause == "cert-expiry"
    assert log_evidence(investigation), investigation.hypotheses[0].evidence
    assert not [n for n in investigation.notes if "Loki" in n]


def test_a_diagnosis_draws_on_elasticsearch_documents(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    sim, clock = shop()
    lines = sim.logs("shop", "checkout", clock.now() - 4 * 3600, clock.now())
    fake = FakeElasticsearch(
        docs=[
            {
                "@timestamp": datetime.fromtimestamp(line.timestamp, UTC).isoformat(),
                "message": line.message,
                "log.level": line.level.lower(),
                "kubernetes": {
                    "namespace": "shop",
                    "labels": {"app": "checkout"},
                    "pod": {"name": line.pod},
                },
            }
            for line in lines
        ]
    )
    with serving(fake) as url:
        investigation = investigate(tmp_path, embedder, sim, clock, source="elasticsearch", url=url)
    assert fake.requests
    assert investigation.hypotheses[0].cause == "cert-expiry"
    assert log_evidence(investigation)


def test_a_log_store_that_is_down_is_one_note_and_the_metrics_still_speak(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    sim, clock = shop()
    url = f"http://127.0.0.1:{free_port()}"
    investigation = investigate(tmp_path, embedder, sim, clock, source="loki", url=url)
    down = [n for n in investigation.notes if "unreachable" in n and "logs.url" in n]
    assert len(down) == 1, investigation.notes
    assert investigation.findings  # the metrics were read and judged
    assert investigation.hypotheses
    assert not log_evidence(investigation)
