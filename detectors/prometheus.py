"""Metrics from Prometheus's HTTP API: one ``query_range`` per metric name.

Each metric name maps to a PromQL template in which ``{namespace}`` and ``{service}`` are replaced
(literally, so PromQL's own braces need no escaping). The step follows the window: at least
``min_step`` seconds and at most ``max_points`` points per series. Every series a query returns is
kept, with its labels (``__name__`` dropped). A metric may also have a ``breakdowns`` query (the
same metric by pod, endpoint...): its series carry the metric's name and more labels, so the
detectors say which label values explain a change.
A query that fails (a PromQL error, a timeout, a malformed answer) costs only its own metric:
the others are still read, and PartialMetricsError carries them with each failure, naming the
metric and the error. A server that cannot be reached, or is not a Prometheus, fails the whole
fetch with MetricSourceError (no other query would fare better); the investigation goes on
without metrics and says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from detectors.errors import MetricSourceError, PartialMetricsError
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
        self._queries = [(m, q, "queries") for m, q in queries.items()]
        self._queries += [(m, q, "breakdowns") for m, q in (breakdowns or {}).items()]
        self._min_step = min_step
        self._max_points = max_points

    def fetch(self, namespace: str, service: str, start: float, end: float) -> list[Series]:
        step = choose_step(start, end, self._min_step, self._max_points)
        found: list[Series] = []
        failed: dict[str, str] = {}
        for metric, template, setting in self._queries:
            query = template.replace("{namespace}", namespace).replace("{service}", service)
            try:
                rows = self._query_range(metric, query, start, end, step, setting)
            except _QueryFailedError as exc:
                name = metric if setting == "queries" else f"{metric} ({setting})"
                failed[name] = str(exc)
                continue
            for labels, times, values in rows:
                found.append(Series.of(metric, times, values, labels).between(start, end))
        if failed:
            raise PartialMetricsError(found, failed)
        return found

    def _query_range(
        self, metric: str, query: str, start: float, end: float, step: float, setting: str
    ) -> list[tuple[dict[str, str], list[float], list[float]]]:
        where = str(self._client.base_url)
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        check = f"check metrics.{setting}.{metric}"
        try:
            response = self._client.get("/api/v1/query_range", params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise MetricSourceError(
                f"Prometheus at {where} is unreachable ({type(exc).__name__}: {exc}); "
                "check metrics.prometheus_url"
            ) from exc
        except httpx.TimeoutException as exc:
            raise _QueryFailedError(
                f"Prometheus query for {metric} timed out ({type(exc).__name__}); {check}"
            ) from exc
        except httpx.HTTPError as exc:
            raise _QueryFailedError(
                f"Prometheus did not answer the query for {metric} ({type(exc).__name__}: "
                f"{_cut(str(exc))})"
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
            raise _QueryFailedError(
                f"Prometheus query for {metric} failed (HTTP {response.status_code}, "
                f"{_cut(str(body.get('errorType', 'error')))}: "
                f"{_cut(str(body.get('error', 'no detail')))}); {check}"
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
            raise _QueryFailedError(
                f"Prometheus at {where} returned an unexpected answer for {metric}: "
                f"{_cut(str(exc))}"
            ) from exc


class _QueryFailedError(MetricSourceError):
    """One query failed; the server answers, so the other metrics are still read."""


def _cut(text: str, limit: int = 300) -> str:
    """An error from the server, on one line and short enough for a note in the thread."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
