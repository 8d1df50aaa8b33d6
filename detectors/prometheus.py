"""Metrics from Prometheus's HTTP API: one ``query_range`` per metric name.

Each metric name maps to a PromQL template in which ``{namespace}`` and ``{service}`` are replaced
(literally, so PromQL's own braces need no escaping). The step follows the window: at least
``min_step`` seconds and at most ``max_points`` points per series. Every series a query returns is
kept, with its labels (``__name__`` dropped). A metric may also have a ``breakdowns`` query (the
same metric by pod, endpoint...): its series carry the metric's name and more labels, so the
detectors say which label values explain a change.
Any failure (unreachable, timeout, HTTP or query error, malformed answer) raises MetricSourceError
naming the server and the metric, and the investigation goes on without metrics. Reading is
bounded: no request waits longer than the caller's time left, an answer larger than
``max_response_bytes`` is refused as it streams in and one with more than ``max_series`` series
once read, so a query matching thousands of series (or a server that never stops sending) costs
neither unbounded memory nor detector time; a server sending more points than asked for is
thinned to ``max_points``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx

from detectors.errors import MetricSourceError
from detectors.series import Series
from detectors.sources import TimeLeft


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
        max_response_bytes: int = 8 * 1024 * 1024,
        max_series: int = 200,
    ) -> None:
        self._client = client
        self._queries = [*queries.items(), *(breakdowns or {}).items()]
        self._min_step = min_step
        self._max_points = max_points
        self._max_bytes = max_response_bytes
        self._max_series = max_series

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[Series]:
        step = choose_step(start, end, self._min_step, self._max_points)
        found: list[Series] = []
        for metric, template in self._queries:
            query = template.replace("{namespace}", namespace).replace("{service}", service)
            for labels, times, values in self._query_range(
                metric, query, start, end, step, time_left
            ):
                series = Series.of(metric, times, values, labels).between(start, end)
                found.append(series.at_most(self._max_points))
        return found

    def _query_range(
        self,
        metric: str,
        query: str,
        start: float,
        end: float,
        step: float,
        time_left: TimeLeft | None,
    ) -> list[tuple[dict[str, str], list[float], list[float]]]:
        where = str(self._client.base_url)
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        try:
            response, content = self._get(metric, params, time_left)
        except httpx.HTTPError as exc:
            raise MetricSourceError(
                f"Prometheus at {where} is unreachable ({type(exc).__name__}: {exc}); "
                "check metrics.prometheus_url"
            ) from exc
        try:
            body: Any = json.loads(content)
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
            if len(data["result"]) > self._max_series:
                raise MetricSourceError(
                    f"Prometheus's answer for {metric} has {len(data['result']):,} series, over "
                    f"metrics.max_series ({self._max_series}): narrow metrics.queries.{metric}"
                )
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

    def _get(
        self, metric: str, params: dict[str, str], time_left: TimeLeft | None
    ) -> tuple[httpx.Response, bytes]:
        """The answer to one query_range and its body, read within the time left and at most
        ``max_response_bytes`` of it."""
        timeout = self._client.timeout
        if time_left is not None:
            left = time_left()
            if left <= 0:
                raise MetricSourceError(f"no time left to query Prometheus for {metric}")
            timeout = httpx.Timeout(left if timeout.read is None else min(left, timeout.read))
        content = bytearray()
        with self._client.stream(
            "GET", "/api/v1/query_range", params=params, timeout=timeout
        ) as response:
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > self._max_bytes:
                    raise MetricSourceError(
                        f"Prometheus's answer for {metric} is over {self._max_bytes:,} bytes "
                        f"(metrics.max_response_bytes): narrow metrics.queries.{metric}"
                    )
                if time_left is not None and time_left() <= 0:
                    raise MetricSourceError(
                        f"no time left to read Prometheus's answer for {metric}"
                    )
        return response, bytes(content)
