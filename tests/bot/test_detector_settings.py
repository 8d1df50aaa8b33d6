"""The detectors and the metric source are configuration: YAML and environment, checked on load."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.config import DEFAULT_QUERIES, Settings, load_settings
from bot.errors import ConfigError
from bot.wiring.sources import prometheus_source
from detectors import Series
from tests.conftest import START
from tests.detectors.signals import noise, times, with_shift
from tools.clock import VirtualClock


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml: str) -> None:
    config = tmp_path / "medic.yaml"
    config.write_text(yaml)
    monkeypatch.setenv("MEDIC_CONFIG", str(config))


def test_ensemble_members_and_rules_come_from_the_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(
        tmp_path,
        monkeypatch,
        "detectors:\n  members:\n    - {detector: holt, params: {alpha: 0.5}}\n"
        "  min_relative_change: 0.5\n  limits: {disk_used_pct: 90}\n",
    )
    suite = load_settings().detectors.suite()
    assert [m.detector for m in suite.ensemble.members] == ["holt"]
    assert suite.ensemble.members[0].params == {"alpha": 0.5}
    assert suite.limits == {"disk_used_pct": 90}
    doubled = Series.of("m", times(300), with_shift(noise(300), 240, 1.4))
    assert suite.analyse([doubled], 200 * 15.0).anomalies == []  # +40% < the configured 50%


def test_the_recurrence_discount_is_off_by_default_and_can_be_switched_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(tmp_path, monkeypatch, "detectors:\n  recurrence: true\n")
    assert load_settings().detectors.ensemble().recurrence
    configure(tmp_path, monkeypatch, "detectors:\n  min_run: 3\n")
    assert not load_settings().detectors.ensemble().recurrence


@pytest.mark.parametrize(
    ("yaml", "problem"),
    [
        ("detectors:\n  members: [{detector: prophet}]\n", "unknown detector 'prophet'"),
        (
            "detectors:\n  members: [{detector: rarity, explained_by: seasonal}]\n",
            "explained_by 'seasonal' is not a member",
        ),
        ("detectors:\n  members: [{detector: holt, weight: -1}]\n", "detectors.members.0.weight"),
        ("metrics:\n  source: graphite\n", "metrics.source"),
    ],
)
def test_bad_detector_or_metrics_settings_name_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml: str, problem: str
) -> None:
    configure(tmp_path, monkeypatch, yaml)
    with pytest.raises(ConfigError, match=problem):
        load_settings()


def test_metric_source_is_chosen_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_METRICS__SOURCE", "prometheus")
    monkeypatch.setenv("MEDIC_METRICS__PROMETHEUS_URL", "http://prom:9090")
    metrics = load_settings().metrics
    assert (metrics.source, metrics.prometheus_url) == ("prometheus", "http://prom:9090")
    assert "request_payload_bytes" in metrics.effective_queries()  # the shipped defaults


class RecordingPrometheus:
    """A stand-in for Prometheus's query_range on loopback that records the PromQL it is asked
    and answers an empty matrix: which metrics an investigation reads, as Prometheus sees it."""

    def __init__(self) -> None:
        asked = self.asked = []  # type: list[str]

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                asked.append(parse_qs(urlsplit(self.path).query)["query"][0])
                body = b'{"status": "success", "data": {"resultType": "matrix", "result": []}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def queries_read(settings: Settings, prometheus: RecordingPrometheus) -> list[str]:
    prometheus.asked.clear()
    source = prometheus_source(settings, VirtualClock(START))
    source.fetch("shop", "recommender", START - 3600, START)
    return list(prometheus.asked)


def test_configured_queries_add_to_and_replace_the_shipped_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: `metrics.queries` with one entry dropped the other five defaults."""
    prometheus = RecordingPrometheus()
    configure(
        tmp_path,
        monkeypatch,
        f"metrics:\n  prometheus_url: {prometheus.url}\n  queries:\n"
        "    latency_p95_ms: istio_p95{workload='{service}'}\n"
        "    db_pool_in_use_ratio: pool_ratio{service='{service}'}\n"
        "    cache_memory_bytes: null\n",
    )
    try:
        asked = queries_read(load_settings(), prometheus)
        assert "istio_p95{workload='recommender'}" in asked  # replaced
        assert "pool_ratio{service='recommender'}" in asked  # added
        assert not any("redis_memory_used_bytes" in q for q in asked)  # dropped
        kept = ("http_requests_total", "5..", "http_request_size_bytes", "cpu_usage")
        assert all(any(k in q for q in asked) for k in kept)  # the other defaults stay
        assert len(asked) == len(DEFAULT_QUERIES) + 1 - 1
        monkeypatch.setenv("MEDIC_METRICS__QUERIES__ERROR_RATIO", "")  # empty drops one too
        assert not any("5.." in q for q in queries_read(load_settings(), prometheus))
    finally:
        prometheus.close()


def test_one_variable_overrides_one_setting_not_the_files_whole_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MEDIC_METRICS__PROMETHEUS_URL used to replace the file's whole `metrics` mapping, so its
    queries were silently back to the defaults."""
    prometheus = RecordingPrometheus()
    configure(tmp_path, monkeypatch, "metrics:\n  queries: {payments_per_s: payments_rate}\n")
    monkeypatch.setenv("MEDIC_METRICS__PROMETHEUS_URL", prometheus.url)
    try:
        assert "payments_rate" in queries_read(load_settings(), prometheus)
    finally:
        prometheus.close()
