"""Live feature histograms from a real Prometheus (Debian package), backfilled with
``promtool tsdb create-blocks-from openmetrics`` at recent timestamps: the window's requests per
bucket, per feature and of the predictions; a service or namespace is data in the query, never
PromQL; the answer is bounded; a server that is not there is one error naming it."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from detectors import MetricSourceError, PrometheusFeatureSource, feature_drift
from detectors.features import Histogram
from tests.services.binaries import free_port
from tests.services.prometheus import running_prometheus

STEP = 15.0
POINTS = 480  # two hours, ending a minute ago
NOW = time.time() // STEP * STEP - 60.0
START = NOW - STEP * (POINTS - 1)
SHIFT = NOW - 30 * 60.0  # basket_value moves up for the last half hour
LE = (10.0, 25.0, 50.0, 100.0, 250.0)
QUIET = (5.0, 20.0, 40.0, 25.0, 8.0, 2.0)  # requests per step per bin (the last: above 250)
MOVED = (1.0, 2.0, 6.0, 20.0, 41.0, 30.0)
HOSTILE_SERVICE = 'recommender"} or vector(1) or {x="'


def _histogram_lines(name: str, labels: str, rates: list[tuple[float, ...]]) -> list[str]:
    """OpenMetrics samples of one histogram: cumulative buckets growing by ``rates`` per step."""
    lines = []
    totals = np.zeros(len(LE) + 1)
    for i, step_rates in enumerate(rates):
        totals += np.asarray(step_rates)
        cumulative = np.cumsum(totals)
        ts = START + STEP * i
        for le, value in zip([*map(str, LE), "+Inf"], cumulative, strict=True):
            lines.append(f'{name}_bucket{{{labels},le="{le}"}} {value:g} {ts:.3f}')
        lines.append(f"{name}_count{{{labels}}} {cumulative[-1]:g} {ts:.3f}")
        lines.append(f"{name}_sum{{{labels}}} 0 {ts:.3f}")
    return lines


def _openmetrics() -> str:
    times = START + STEP * np.arange(POINTS)
    lines = ["# TYPE model_input_feature histogram"]
    for feature in ("basket_value", "items_in_cart"):
        labels = f'namespace="shop",service="recommender",feature="{feature}"'
        rates = [MOVED if (feature == "basket_value" and t >= SHIFT) else QUIET for t in times]
        lines += _histogram_lines("model_input_feature", labels, rates)
    lines.append("# TYPE model_prediction histogram")
    lines += _histogram_lines(
        "model_prediction", 'namespace="shop",service="recommender"', [QUIET] * POINTS
    )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_prometheus(tmp_path_factory.mktemp("prometheus"), _openmetrics()) as url:
        yield url


def source(url: str, **bounds: int) -> PrometheusFeatureSource:
    return PrometheusFeatureSource(httpx.Client(base_url=url, timeout=5), **bounds)


def training() -> Histogram:
    """The training profile: QUIET's shape over the same bins, closed at 0 and 1000."""
    return Histogram((0.0, *LE, 1000.0), tuple(float(q) * 1000 for q in QUIET))


def test_each_features_requests_in_the_window_per_bucket(prometheus: str) -> None:
    window = source(prometheus).feature_histograms("shop", "recommender", SHIFT + 60, NOW)
    assert sorted(window.features) == ["basket_value", "items_in_cart"]
    quiet = window.features["items_in_cart"]
    assert quiet.edges == (-math.inf, *LE, math.inf)
    per_step = np.asarray(quiet.counts) / quiet.total
    assert per_step == pytest.approx(np.asarray(QUIET) / sum(QUIET), abs=0.01)
    assert window.predictions is not None and window.predictions.total > 0
    moved = feature_drift("basket_value", training(), window.features["basket_value"])
    still = feature_drift("items_in_cart", training(), quiet)
    assert moved.drifted and not still.drifted
    assert moved.outside == pytest.approx(30 / 100, abs=0.02)  # above the training range


def test_before_the_shift_the_feature_had_not_moved(prometheus: str) -> None:
    window = source(prometheus).feature_histograms("shop", "recommender", START + 600, SHIFT - 60)
    assert not feature_drift("basket_value", training(), window.features["basket_value"]).drifted


def test_a_service_name_is_data_in_the_query(prometheus: str) -> None:
    window = source(prometheus).feature_histograms("shop", HOSTILE_SERVICE, SHIFT, NOW)
    assert window.features == {} and window.predictions is None
    assert (
        source(prometheus).feature_histograms("billing", "recommender", SHIFT, NOW).features == {}
    )


def test_the_answer_is_bounded(prometheus: str) -> None:
    one = source(prometheus, max_features=1).feature_histograms("shop", "recommender", SHIFT, NOW)
    assert list(one.features) == ["basket_value"]
    coarse = source(prometheus, max_buckets=3).feature_histograms("shop", "recommender", SHIFT, NOW)
    assert coarse.features == {}  # more buckets than allowed: left out whole, not cut wrong
    with pytest.raises(MetricSourceError, match="over 100 bytes"):
        source(prometheus, max_response_bytes=100).feature_histograms(
            "shop", "recommender", SHIFT, NOW
        )
    with pytest.raises(MetricSourceError, match="no time left"):
        source(prometheus).feature_histograms(
            "shop", "recommender", SHIFT, NOW, time_left=lambda: 0.0
        )


def test_a_server_that_is_not_there_is_one_error_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MetricSourceError, match=f"Prometheus at {url}"):
        source(url).feature_histograms("shop", "recommender", SHIFT, NOW)
