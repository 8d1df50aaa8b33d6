"""The investigation with its metrics from Prometheus: the demo's metrics served by a real server,
and an unreachable server that the investigation survives and reports."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.alerts import parse_alerts
from bot.config import load_settings
from bot.demo import scenario_alert
from bot.diagnosis.investigation import Investigation
from bot.wiring import build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tests.services.binaries import free_port
from tests.services.prometheus import openmetrics_gauges, running_prometheus
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

pytestmark = pytest.mark.slow
SERVICE = (("namespace", "shop"), ("service", "recommender"))


def recent_sim() -> tuple[SimulatedCluster, VirtualClock]:
    clock = VirtualClock(time.time())  # Prometheus keeps recent samples only
    return SimulatedCluster(SCENARIOS["input-size-surge"], clock), clock


def prometheus_settings(data: Path, url: str, metrics: list[str]) -> dict[str, object]:
    queries = {m: f'sim_{m}{{namespace="{{namespace}}", service="{{service}}"}}' for m in metrics}
    return {
        "data_dir": data,
        "metrics": {"source": "prometheus", "prometheus_url": url, "queries": queries},
    }


def investigated_through_prometheus(
    tmp_path: Path, embedder: MiniLMEmbedding, also: str = "", **queries: str
) -> Investigation:
    """The demo's incident investigated with its metrics served by a real Prometheus, with
    ``queries`` added to (or replacing) the configured ones; ``also``: a service the simulated
    cluster does not run that has series in the shop's namespace too."""
    sim, clock = recent_sim()
    series = sim.metrics("shop", "recommender", clock.now() - 7200, clock.now())
    samples = {
        (f"sim_{s.metric}", SERVICE + tuple(sorted(s.labels.items()))): list(
            zip(s.timestamps.tolist(), s.values.tolist(), strict=True)
        )
        for s in series
    }
    if also:
        labels = (("namespace", "shop"), ("service", also))
        samples[("sim_request_rate", labels)] = [(clock.now() - 60 * k, 5.0) for k in range(60)]
    text = openmetrics_gauges(samples)
    with running_prometheus(tmp_path / "prometheus", text) as url:
        settings = load_settings(**prometheus_settings(tmp_path, url, [s.metric for s in series]))
        settings.metrics.queries.update(queries)
        flow = build_sim_flow(settings, sim, clock, embedder)
        incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
        return flow.investigate(incident)


def test_demo_metrics_served_by_prometheus_lead_to_the_same_diagnosis(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    investigation = investigated_through_prometheus(tmp_path, embedder)
    assert investigation.notes == []
    assert {"latency_p95_ms", "request_payload_bytes"} <= {f.metric for f in investigation.findings}
    assert investigation.hypotheses[0].cause == "input-size-surge"
    assert [f.metric for f in investigation.drift] == ["request_payload_bytes"]


def test_a_service_prometheus_has_series_of_is_ranked_among_the_candidates(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    """Issue 14: the services around the alerting one come from Prometheus too - here one the
    cluster does not list (a managed service that exports metrics, say)."""
    investigation = investigated_through_prometheus(tmp_path, embedder, also="search-api")
    for note in investigation.notes:  # the cluster has no pods of it: its metrics must do
        assert note.startswith("logs of search-api unavailable, ranked on its metrics")
    relation = investigation.origins.relation("search-api")
    assert relation is not None and relation.relation == "namespace"
    assert "search-api" in {o.service for o in investigation.origins.ranked}
    assert {"checkout", "frontend"} <= set(investigation.origins.relations)  # the cluster's too


def test_a_bad_query_costs_only_its_metric_and_the_investigation_names_it(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    """Issue 11: one bad PromQL query discarded every metric of the investigation."""
    unclosed = "sum(rate(http_requests_total[5m]"
    investigation = investigated_through_prometheus(tmp_path, embedder, error_ratio=unclosed)
    [note] = investigation.notes
    assert note.startswith(
        "metric error_ratio not investigated: Prometheus query for error_ratio failed (HTTP 400, "
        "bad_data: "
    )
    assert note.endswith("; check metrics.queries.error_ratio")
    assert "error_ratio" not in {s.metric for s in investigation.series}
    assert {"latency_p95_ms", "request_payload_bytes"} <= {f.metric for f in investigation.findings}
    assert investigation.hypotheses[0].cause == "input-size-surge"


def test_unreachable_prometheus_is_reported_and_the_investigation_goes_on(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    sim, clock = recent_sim()
    url = f"http://127.0.0.1:{free_port()}"
    settings = load_settings(**prometheus_settings(tmp_path, url, ["latency_p95_ms"]))
    flow = build_sim_flow(settings, sim, clock, embedder)
    incident, _ = flow.intake(parse_alerts(scenario_alert(sim.scenario, sim.anchor)))[0]
    investigation = flow.investigate(incident)
    assert investigation.findings == [] and investigation.series == []
    [note] = investigation.notes
    assert note.startswith("metrics unavailable, continuing without them") and "unreachable" in note
    assert (
        investigation.templates is not None and investigation.templates.abnormal
    )  # logs still read
    assert investigation.hypotheses  # from the logs and the incident memory
    # Prometheus cannot name the shop's services either (said once, above); the cluster still does
    assert set(investigation.origins.relations) == {"recommender", "checkout", "frontend"}
