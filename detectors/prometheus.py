"""Metrics from Prometheus's HTTP API: one ``query_range`` per metric name.

Each metric name maps to a PromQL template in which ``{namespace}`` and ``{service}`` are replaced
(literally, so PromQL's own braces need no escaping). The step follows the window: at least
``min_step`` seconds and at most ``max_points`` points per series. Every series a query returns is
kept, with its labels (``__name__`` dropped). A metric may also have a ``breakdowns`` query (the
same metric by pod, endpoint...): its series carry the metric's name and more labels, so the
detectors say which label values explain a change.
Any failure (unreachable, timeout, HTTP or query error, malformed answer) raises MetricSourceError
naming the server and the metric, and the investigation goes on without metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from detectors.errors import MetricSourceError
from detectors.series import Series


def choose_step(start: float, end: float, min_step: float, max_points: int) -> float:
    """A whole number of seconds, at least ``min_step``, giving at most ``max_points`` points."""
    return float(max(math.ceil(min_step), math.ceil(max(end - start, 0.0) / max(max_points, 1))))


class PrometheusMetricSource:
    def __init__(
        self,
        client: httpx.Client,
        queries: Mapping[str, str],
        min_step: float = 15.0,
        max_points: int = 720,
        breakdowns: Mapping[str, str] | None = None,
    ) -> None:
        self._client = client
        self._queries = [*queries.items(), *(breakdowns or {}).items()]
        self._min_step = min_step
        self._max_points = max_points

    def fetch(self, namespace: str, service: str, start: float, end: float) -> list[Series]:
        step = choose_step(start, end, self._min_step, self._max_points)
        found: list[Series] = []
        for metric, template in self._queries:
            query = template.replace("{namespace}", namespace).replace("{service}", service)
            for labels, times, values in self._query_range(metric, query, start, end, step):
                found.append(Series.of(metric, times, values, labels).between(start, end))
        return found

    def _query_range(
        self, metric: str, query: str, start: float, end: float, step: float
    ) -> list[tuple[dict[str, str], list[float], list[float]]]:
        where = str(self._client.base_url)
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        try:
            response = self._client.get("/api/v1/query_range", params=params)
        except httpx.HTTPError as exc:
            raise MetricSourceError(
                f"Prometheus at {where} is unreachable ({type(exc).__name__}: {exc}); "
                "check metrics.prometheus_url"
            ) from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise MetricSourceError(
                f"Prometheus at {where} answered HTTP {response.status_code} without JSON "
                f"for {metric}; is metrics.prometheus_url a Prometheus server?"
            )
        if response.status_code != 200 or body.get("status") != "success":
            raise MetricSourceError(
                f"Prometheus query for {metric} failed (HTTP {response.status_code}, "
                f"{body.get('errorType', 'error')}: {body.get('error', 'no detail')}); "
                f"check metrics.queries.{metric}"
            )
        try:
            data = body["data"]
            if data["resultType"] != "matrix":
                raise ValueError(f"resultType {data['resultType']!r}, expected a range vector")
            return [
                (
                    {k: str(v) for k, v in item["metric"].items() if k != "__name__"},
                    [float(t) for t, _ in item["values"]],
                    [float(v) for _, v in item["values"]],
                )
                for item in data["result"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise MetricSourceError(
                f"Prometheus at {where} returned an unexpected answer for {metric}: {exc}"
            ) from exc
