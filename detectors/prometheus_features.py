"""Live feature histograms from Prometheus: what a serving process exports as
``model_input_feature_bucket{namespace, service, feature, le}`` (one histogram per input feature)
and ``model_prediction_bucket{namespace, service, le}`` (its outputs), counted over a window.

Two instant queries at the window's end, ``sum by (feature, le) (increase(...[window]))``: the
requests seen in the window per cumulative ``le`` bucket, turned here into counts per bin (edges
``-Inf, le_1, ..., +Inf``), the shape a training profile is compared in
(:mod:`detectors.histogram_drift`). Namespace and service are quoted as PromQL strings (data, never
PromQL). Bounded like the metric source: no request waits past the caller's time left, an answer
over ``max_response_bytes`` is refused as it streams in, at most ``max_features`` features of at
most ``max_buckets`` buckets are kept (the rest cut, sorted by name), and a feature name is data of
at most ``MAX_FEATURE_NAME`` characters.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import httpx

from detectors.errors import MetricSourceError
from detectors.features import FeatureWindow, Histogram
from detectors.prometheus import bounded_get
from detectors.sources import TimeLeft

FEATURES = "model_input_feature_bucket"
PREDICTIONS = "model_prediction_bucket"
MAX_FEATURE_NAME = 200


class PrometheusFeatureSource:
    """A :class:`~detectors.features.FeatureSource` over Prometheus's HTTP API."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        max_features: int = 200,
        max_buckets: int = 256,
        max_response_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self._client = client
        self._max_features = max_features
        self._max_buckets = max_buckets
        self._max_bytes = max_response_bytes

    def feature_histograms(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> FeatureWindow:
        window = max(math.ceil(end - start), 1)
        where = f"namespace={json.dumps(namespace)}, service={json.dumps(service)}"
        features = self._histograms(
            f"sum by (feature, le) (increase({FEATURES}{{{where}}}[{window}s]))",
            end,
            "feature",
            time_left,
        )
        predictions = self._histograms(
            f"sum by (le) (increase({PREDICTIONS}{{{where}}}[{window}s]))", end, "", time_left
        )
        kept = dict(sorted(features.items())[: self._max_features])
        return FeatureWindow(features=kept, predictions=predictions.get(""))

    def _histograms(
        self, query: str, at: float, by: str, time_left: TimeLeft | None
    ) -> dict[str, Histogram]:
        rows = self._vector(query, at, time_left)
        buckets: dict[str, dict[float, float]] = defaultdict(dict)
        oversized: set[str] = set()  # more buckets than max_buckets: left out whole
        for labels, value in rows:
            name = labels.get(by, "") if by else ""
            if len(name) > MAX_FEATURE_NAME:
                continue
            try:
                le = float(labels.get("le", ""))
            except ValueError:
                continue
            if math.isnan(le) or not math.isfinite(value):
                continue
            named = buckets[name]
            if len(named) > self._max_buckets:
                oversized.add(name)
                named.clear()
            if name not in oversized:
                named[le] = value
        return {
            name: histogram
            for name, cumulative in buckets.items()
            if name not in oversized and (histogram := _from_cumulative(cumulative)) is not None
        }

    def _vector(
        self, query: str, at: float, time_left: TimeLeft | None
    ) -> list[tuple[dict[str, str], float]]:
        where = str(self._client.base_url)
        if time_left is not None and time_left() <= 0:
            raise MetricSourceError("no time left to read the live feature histograms")
        try:
            response, content = bounded_get(
                self._client,
                "/api/v1/query",
                {"query": query, "time": f"{at:.3f}"},
                time_left,
                self._max_bytes,
                "the feature histograms",
                "lower investigation.model.max_features or raise metrics.max_response_bytes",
            )
        except httpx.HTTPError as exc:
            raise MetricSourceError(
                f"Prometheus at {where} did not answer the feature histograms query "
                f"({type(exc).__name__}); check metrics.prometheus_url"
            ) from exc
        try:
            body: Any = json.loads(content)
            if response.status_code != 200 or body.get("status") != "success":
                raise ValueError(f"HTTP {response.status_code}: {body.get('error', 'no detail')}")
            result = body["data"]["result"]
            return [
                ({str(k): str(v) for k, v in item["metric"].items()}, float(item["value"][1]))
                for item in result
            ]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = " ".join(str(exc).split())[:300]
            raise MetricSourceError(
                f"Prometheus at {where} gave no feature histograms: {detail}"
            ) from exc


def _from_cumulative(cumulative: dict[float, float]) -> Histogram | None:
    """Counts per bin from cumulative ``le`` buckets (a counter reset can make a later bucket
    smaller: its count is taken as 0); None without a ``+Inf`` bucket or any count."""
    les = sorted(cumulative)
    if not les or les[-1] != math.inf:
        return None
    counts, before = [], 0.0
    for le in les:
        now = max(cumulative[le], before)
        counts.append(now - before)
        before = now
    if before <= 0:
        return None
    edges = (-math.inf, *les[:-1], math.inf)
    return Histogram(edges=tuple(edges), counts=tuple(counts))
