"""The Prometheus metric source against a real Prometheus (Debian package), backfilled with
``promtool tsdb create-blocks-from openmetrics`` at recent timestamps."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from bot.config import MetricsSettings
from detectors import (
    DEFAULT_ENSEMBLE,
    FindingRules,
    MetricSourceError,
    PartialMetricsError,
    PrometheusMetricSource,
    detect_anomalies,
)
from detectors.prometheus import choose_step, selector_label
from tests.services.binaries import free_port
from tests.services.prometheus import openmetrics_gauges, running_prometheus
from tests.services.stalling import stalling_server

STEP = 15.0
POINTS = 480  # two hours at 15 s, ending a minute ago: well inside the retention window
NOW = time.time() // STEP * STEP - 60.0
START = NOW - STEP * (POINTS - 1)
SURGE = NOW - 20 * 60.0  # the last 20 minutes: pod "b" triples its payload
MARKUP = "<!channel> & <https://evil.example|click>"
HUGE = "x" * 65536
SERVICES = [  # (namespace, service) of an `up` series each, beside the payload series
    ("shop", "checkout"),
    ("shop", "payments"),
    ("shop", MARKUP),
    ("shop", HUGE),
    ("billing", "ledger"),
]


def _samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]]:
    rng = np.random.default_rng(7)
    t = START + STEP * np.arange(POINTS)
    samples = {}
    for pod in ("a", "b", "c"):
        values = 2000 + rng.normal(0, 40, POINTS)
        if pod == "b":
            values[t >= SURGE] *= 3
        labels = (("namespace", "shop"), ("pod", pod), ("service", "recommender"))
        samples[("payload_bytes", labels)] = list(zip(t.tolist(), values.tolist(), strict=True))
    for namespace, service in SERVICES:
        labels = (("namespace", namespace), ("service", service))
        samples[("up", labels)] = [(float(ts), 1.0) for ts in t[-40:]]
    return samples


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_prometheus(
        tmp_path_factory.mktemp("prometheus"), openmetrics_gauges(_samples())
    ) as url:
        yield url


def source(url: str, queries: dict[str, str]) -> PrometheusMetricSource:
    return PrometheusMetricSource(httpx.Client(base_url=url, timeout=5), queries)


def test_fetches_every_series_of_a_query_with_its_labels(prometheus: str) -> None:
    queries = {
        "request_payload_bytes": 'payload_bytes{namespace="{namespace}", service="{service}"}'
    }
    found = source(prometheus, queries).fetch("shop", "recommender", START, NOW + 1)
    assert sorted(s.labels["pod"] for s in found) == ["a", "b", "c"]
    assert all(s.metric == "request_payload_bytes" for s in found)
    assert all("__name__" not in s.labels for s in found)
    assert all(len(s) == POINTS and np.all(np.diff(s.timestamps) == STEP) for s in found)


def test_aggregate_and_breakdown_explain_which_pod_surged(prometheus: str) -> None:
    selector = 'namespace="{namespace}", service="{service}"'
    client = httpx.Client(base_url=prometheus, timeout=5)
    metrics = PrometheusMetricSource(
        client,
        {"request_payload_bytes": f"sum by (namespace, service) (payload_bytes{{{selector}}})"},
        breakdowns={"request_payload_bytes": f"payload_bytes{{{selector}}}"},
    )
    series = metrics.fetch("shop", "recommender", START, NOW + 1)
    assert len(series) == 4 and {s.metric for s in series} == {"request_payload_bytes"}
    [finding] = detect_anomalies(series, NOW - 30 * 60, DEFAULT_ENSEMBLE, FindingRules())
    assert finding.labels == {"namespace": "shop", "service": "recommender"}
    assert abs(finding.start - SURGE) <= STEP
    assert finding.attribution[0].labels == {"pod": "b"}
    assert finding.attribution[0].share > 0.9


def test_step_follows_the_window(prometheus: str) -> None:
    queries = {"m": 'payload_bytes{pod="a"}'}
    [day] = source(prometheus, queries).fetch("shop", "recommender", NOW - 7200, NOW + 1)
    assert np.diff(day.timestamps).min() == choose_step(NOW - 7200, NOW + 1, 15.0, 720) == 15.0
    coarse = PrometheusMetricSource(httpx.Client(base_url=prometheus), queries, max_points=60)
    [thin] = coarse.fetch("shop", "recommender", NOW - 7200, NOW + 1)
    assert len(thin) <= 61 and np.diff(thin.timestamps).min() == 121.0


def test_a_bad_query_costs_only_its_own_metric(prometheus: str) -> None:
    """Issue 11: one bad PromQL query discarded every metric of the investigation."""
    selector = 'namespace="{namespace}", service="{service}"'
    metrics = PrometheusMetricSource(
        httpx.Client(base_url=prometheus, timeout=5),
        {"latency_p95_ms": "sum((", "request_payload_bytes": f"payload_bytes{{{selector}}}"},
        breakdowns={"request_payload_bytes": "rate(payload_bytes[5m]"},
    )
    with pytest.raises(PartialMetricsError) as raised:
        metrics.fetch("shop", "recommender", START, NOW + 1)
    assert sorted(s.labels["pod"] for s in raised.value.series) == ["a", "b", "c"]
    failed = raised.value.failed
    assert set(failed) == {"latency_p95_ms", "request_payload_bytes (breakdowns)"}
    assert failed["latency_p95_ms"].startswith(
        "Prometheus query for latency_p95_ms failed (HTTP 400, bad_data: "
    )
    assert failed["latency_p95_ms"].endswith("check metrics.queries.latency_p95_ms")
    assert (
        "check metrics.breakdowns.request_payload_bytes"
        in failed["request_payload_bytes (breakdowns)"]
    )


def test_a_query_that_times_out_costs_only_its_own_metric() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if "slow_metric" in request.url.params["query"]:
            raise httpx.ReadTimeout("timed out", request=request)
        result = [{"metric": {}, "values": [[NOW - 60, "1"], [NOW, "2"]]}]
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "matrix", "result": result}}
        )

    client = httpx.Client(base_url="http://prometheus", transport=httpx.MockTransport(answer))
    metrics = PrometheusMetricSource(client, {"slow": "slow_metric", "fast": "fast_metric"})
    with pytest.raises(PartialMetricsError) as raised:
        metrics.fetch("shop", "x", NOW - 600, NOW + 1)
    assert [s.metric for s in raised.value.series] == ["fast"]
    assert raised.value.failed == {
        "slow": "Prometheus query for slow timed out (ReadTimeout); check metrics.queries.slow"
    }


def test_an_instant_vector_query_result_is_still_a_range(prometheus: str) -> None:
    [s] = source(prometheus, {"m": "vector(1)"}).fetch("shop", "x", NOW - 600, NOW + 1)
    assert (s.values == 1.0).all()


def test_unreachable_prometheus_is_a_metric_source_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MetricSourceError, match="unreachable"):
        source(url, {"m": "up"}).fetch("shop", "x", NOW - 600, NOW)


def test_something_else_than_prometheus_is_a_metric_source_error(tmp_path: Path) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>hello</html>"))
    client = httpx.Client(base_url="http://not-prometheus", transport=transport)
    with pytest.raises(MetricSourceError, match="without JSON"):
        PrometheusMetricSource(client, {"m": "up"}).fetch("shop", "x", NOW - 600, NOW)


def test_an_answer_beyond_max_response_bytes_is_refused(prometheus: str) -> None:
    """A query that matches far more than expected (every pod of a big cluster, a label typo)
    costs at most ``metrics.max_response_bytes`` of memory, and says which query to narrow."""
    queries = {"request_payload_bytes": 'payload_bytes{namespace="{namespace}"}'}
    capped = PrometheusMetricSource(
        httpx.Client(base_url=prometheus, timeout=5), queries, max_response_bytes=4096
    )
    with pytest.raises(MetricSourceError, match=r"over 4,096 bytes \(metrics.max_response_bytes\)"
                       ": narrow metrics.queries.request_payload_bytes"):  # fmt: skip
        capped.fetch("shop", "recommender", START, NOW + 1)


def test_an_answer_beyond_max_series_is_refused(prometheus: str) -> None:
    queries = {"request_payload_bytes": 'payload_bytes{namespace="{namespace}"}'}  # 3 pods
    capped = PrometheusMetricSource(
        httpx.Client(base_url=prometheus, timeout=5), queries, max_series=2
    )
    with pytest.raises(MetricSourceError, match=r"has 3 series, over metrics.max_series \(2\): "
                       "narrow metrics.queries.request_payload_bytes"):  # fmt: skip
        capped.fetch("shop", "recommender", START, NOW + 1)


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_a_slow_prometheus_is_given_up_on_when_the_callers_time_is_up(mode: str) -> None:
    """A server that never answers, or answers a byte at a time (each read well within the
    client's timeout, the whole never done), holds the caller no longer than its time left."""
    outcome: list[BaseException] = []
    with stalling_server(mode) as (url, arrived):  # type: ignore[arg-type]
        metrics = source(url, {"latency_p95_ms": "up"})
        until: list[float] = []

        def time_left() -> float:
            """A second, counted from when the server has the request (counted from the test's
            start, a busy machine could spend it before the request was sent: none was)."""
            if not arrived.is_set():
                return 1.0
            if not until:
                until.append(time.monotonic() + 1.0)
            return until[0] - time.monotonic()

        def fetch() -> None:
            try:
                metrics.fetch("shop", "recommender", START, NOW, time_left=time_left)
            except BaseException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=fetch, daemon=True)
        caller.start()
        caller.join(timeout=30)  # a guard against a hang, not a measurement
        assert arrived.is_set() and not caller.is_alive()
    [error] = outcome
    assert isinstance(error, MetricSourceError)
    assert "Prometheus" in str(error)


def test_the_services_of_a_namespace_are_its_service_label_values(prometheus: str) -> None:
    """Issue 14: the services around an alerting one, from the series Prometheus holds - each
    once, sorted; another namespace's are not listed."""
    metrics = source(
        prometheus, {"m": 'payload_bytes{namespace="{namespace}", service="{service}"}'}
    )
    assert metrics.workloads("shop", 50) == ["checkout", "payments", "recommender"]
    assert metrics.workloads("billing", 50) == ["ledger"]
    assert metrics.workloads("shop", 2) == ["checkout", "payments"]
    assert metrics.workloads("nowhere", 50) == []


def test_a_label_value_that_cannot_name_a_workload_is_left_out(prometheus: str) -> None:
    """Label values are data from whatever exports metrics: markup, or a 64 KiB value, is not a
    service to read, query or show."""
    listed = source(prometheus, {"m": "up"}).workloads("shop", 50)
    assert MARKUP not in listed and HUGE not in listed
    assert all(len(name) <= 63 and "<" not in name for name in listed)


def test_a_namespace_cannot_break_out_of_the_selector(prometheus: str) -> None:
    """The namespace comes from an alert: quoted as a PromQL string, it selects nothing rather
    than another namespace's series."""
    metrics = source(prometheus, {"m": "up"})
    assert metrics.workloads('shop"} or {namespace="billing', 50) == []
    assert metrics.workloads('shop\\", namespace=~".+', 50) == []


def test_the_service_label_is_the_one_the_queries_select_on(prometheus: str) -> None:
    """A source whose PromQL names services by another label lists that label's values."""
    by_pod = source(prometheus, {"m": 'payload_bytes{namespace="{namespace}", pod="{service}"}'})
    assert by_pod.workloads("shop", 50) == ["a", "b", "c"]


def test_the_default_queries_name_namespace_and_service() -> None:
    queries = MetricsSettings().effective_queries()
    assert selector_label(queries, "{namespace}", "?") == "namespace"
    assert selector_label(queries, "{service}", "?") == "service"
    assert selector_label({"cpu": 'x{pod=~"{service}-.*"}'}, "{service}", "service") == "service"


def test_listing_the_services_of_an_unreachable_prometheus_is_a_metric_source_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MetricSourceError, match=r"^Prometheus at .* is unreachable .*"
                       r"check metrics.prometheus_url$"):  # fmt: skip
        source(url, {"m": "up"}).workloads("shop", 50)


def test_a_services_list_beyond_max_response_bytes_is_refused(prometheus: str) -> None:
    capped = PrometheusMetricSource(
        httpx.Client(base_url=prometheus, timeout=5), {"m": "up"}, max_response_bytes=4096
    )
    with pytest.raises(MetricSourceError, match=r"over 4,096 bytes"):
        capped.workloads("shop", 50)  # the 64 KiB label value


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_a_slow_prometheus_lists_no_services_after_its_timeout(mode: str) -> None:
    """A server that never answers the list, or answers it a byte at a time (each read well
    within the timeout), holds the investigation no longer than metrics.timeout_seconds."""
    outcome: list[BaseException] = []
    with stalling_server(mode) as (url, arrived):  # type: ignore[arg-type]
        metrics = PrometheusMetricSource(httpx.Client(base_url=url, timeout=1.0), {"m": "up"})

        def list_services() -> None:
            try:
                metrics.workloads("shop", 50)
            except BaseException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=list_services, daemon=True)
        caller.start()
        caller.join(timeout=30)  # a guard against a hang, not a measurement
        assert arrived.is_set() and not caller.is_alive()
    [error] = outcome
    assert isinstance(error, MetricSourceError)
    assert "the service values of namespace shop" in str(error)
