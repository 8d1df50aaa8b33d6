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
Reading is bounded: no request waits longer than the caller's time left (when it runs out,
the metrics not yet read are failed, the others kept), an answer larger than
``max_response_bytes`` is refused as it streams in and one with more than ``max_series`` series
once read (each costing only its metric), so a query matching thousands of series (or a server
that never stops sending) costs neither unbounded memory nor detector time; a server sending more
points than asked for is thinned to ``max_points``.

The source also names the services of a namespace (``workloads``: the values of the service label
on the namespace's recent series), so an investigation looks at services that have metrics even
where the cluster cannot list its workloads. The label names are the ones the queries already
select on (``service="{service}"`` in the shipped PromQL): a source whose queries say
``app="{service}"`` lists ``app`` values.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from detectors.errors import MetricSourceError, PartialMetricsError
from detectors.series import Series
from detectors.sources import TimeLeft

# a value of the service label that could name a workload (a DNS label, as Kubernetes names
# Services and as ``dependencies:`` is checked): anything else - markup, a quote that would break
# out of a PromQL selector, a value of a megabyte - is not a service an investigation can read
WORKLOAD_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
WORKLOADS_LOOKBACK = 6 * 3600.0  # seconds of series whose services count as the namespace's
TOO_MANY_WORKLOADS = "the investigation goes on with the services the cluster lists"
WORKLOADS_TIMEOUT = 10.0  # seconds for the list, when the client sets no read timeout


def selector_label(queries: Mapping[str, str], placeholder: str, default: str) -> str:
    """The label the queries match exactly against ``placeholder`` (``service="{service}"``),
    the most common one when they differ; ``default`` when none does (a regex match such as
    ``pod=~"{service}-.*"`` names no label whose values are services)."""
    exact = re.compile(
        r'([A-Za-z_][A-Za-z0-9_]{0,127})\s{0,8}=\s{0,8}"' + re.escape(placeholder) + '"'
    )
    used = Counter(label for query in queries.values() for label in exact.findall(query))
    return min(used, key=lambda label: (-used[label], label)) if used else default


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
        now: Callable[[], float] = time.time,
        workloads_lookback: float = WORKLOADS_LOOKBACK,
    ) -> None:
        self._client = client
        self._now = now
        self._lookback = workloads_lookback
        self._namespace_label = selector_label(queries, "{namespace}", "namespace")
        self._service_label = selector_label(queries, "{service}", "service")
        self._queries = [(m, q, "queries") for m, q in queries.items()]
        self._queries += [(m, q, "breakdowns") for m, q in (breakdowns or {}).items()]
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
        failed: dict[str, str] = {}
        for metric, template, setting in self._queries:
            query = template.replace("{namespace}", namespace).replace("{service}", service)
            name = metric if setting == "queries" else f"{metric} ({setting})"
            if time_left is not None and time_left() <= 0:
                failed[name] = "no time left in the investigation's budget to read it"
                continue
            try:
                rows = self._query_range(metric, query, start, end, step, setting, time_left)
            except _QueryFailedError as exc:
                failed[name] = str(exc)
                continue
            for labels, times, values in rows:
                series = Series.of(metric, times, values, labels).between(start, end)
                found.append(series.at_most(self._max_points))
        if failed:
            raise PartialMetricsError(found, failed)
        return found

    def _query_range(
        self,
        metric: str,
        query: str,
        start: float,
        end: float,
        step: float,
        setting: str,
        time_left: TimeLeft | None,
    ) -> list[tuple[dict[str, str], list[float], list[float]]]:
        where = str(self._client.base_url)
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        path = f"metrics.{setting}.{metric}"
        try:
            response, content = self._get(
                "/api/v1/query_range", params, time_left, metric, f"narrow {path}"
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _unreachable(where, exc) from exc
        except httpx.TimeoutException as exc:
            raise _QueryFailedError(
                f"Prometheus query for {metric} timed out ({type(exc).__name__}); check {path}"
            ) from exc
        except httpx.HTTPError as exc:
            raise _QueryFailedError(
                f"Prometheus did not answer the query for {metric} ({type(exc).__name__}: "
                f"{_cut(str(exc))})"
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
            raise _QueryFailedError(
                f"Prometheus query for {metric} failed (HTTP {response.status_code}, "
                f"{_cut(str(body.get('errorType', 'error')))}: "
                f"{_cut(str(body.get('error', 'no detail')))}); check {path}"
            )
        try:
            data = body["data"]
            if data["resultType"] != "matrix":
                raise ValueError(f"resultType {data['resultType']!r}, expected a range vector")
            if len(data["result"]) > self._max_series:
                raise _QueryFailedError(
                    f"Prometheus's answer for {metric} has {len(data['result']):,} series, over "
                    f"metrics.max_series ({self._max_series}): narrow metrics.{setting}.{metric}"
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
            raise _QueryFailedError(
                f"Prometheus at {where} returned an unexpected answer for {metric}: "
                f"{_cut(str(exc))}"
            ) from exc

    def _get(
        self,
        endpoint: str,
        params: dict[str, str],
        time_left: TimeLeft | None,
        metric: str,
        remedy: str,
    ) -> tuple[httpx.Response, bytes]:
        """The answer to one request (a query_range, a label's values) and its body
        (``bounded_get``); a failed read costs only this metric."""
        return bounded_get(
            self._client, endpoint, params, time_left, self._max_bytes, metric, remedy,
            _QueryFailedError,
        )  # fmt: skip

    def workloads(self, namespace: str, limit: int) -> list[str]:
        """The services of ``namespace``: the values of the service label on its series of the
        last ``workloads_lookback`` seconds, sorted, at most ``limit`` (a service gone for longer
        has nothing left to rank). Values that cannot name a workload are left out. One request,
        answered whole within the client's read timeout and ``max_response_bytes``;
        MetricSourceError when it fails, naming the server and what to check."""
        where = str(self._client.base_url)
        end = self._now()
        params = {
            # json.dumps quotes and escapes like a PromQL string: a namespace is data, not PromQL
            "match[]": f"{{{self._namespace_label}={json.dumps(namespace)}}}",
            "start": f"{end - self._lookback:.3f}",
            "end": f"{end:.3f}",
            "limit": str(max(limit, 1)),  # honoured by Prometheus 2.51 and later; cut here too
        }
        what = f"the {self._service_label} values of namespace {_cut(namespace, 80)}"
        endpoint = f"/api/v1/label/{self._service_label}/values"
        # the whole answer within the timeout, not each read of it: a server sending a byte at a
        # time would otherwise hold the investigation for ever
        deadline = time.monotonic() + (self._client.timeout.read or WORKLOADS_TIMEOUT)
        try:
            response, content = self._get(
                endpoint, params, lambda: deadline - time.monotonic(), what, TOO_MANY_WORKLOADS
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _unreachable(where, exc) from exc
        except httpx.HTTPError as exc:
            raise MetricSourceError(
                f"Prometheus at {where} did not list {what} ({type(exc).__name__}: "
                f"{_cut(str(exc))}); check metrics.timeout_seconds"
            ) from exc
        try:
            body: Any = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("status") != "success":
            detail = body.get("error", "no detail") if isinstance(body, dict) else "not JSON"
            raise MetricSourceError(
                f"Prometheus at {where} did not list {what} (HTTP {response.status_code}: "
                f"{_cut(str(detail))}); is metrics.prometheus_url a Prometheus server?"
            )
        values = body.get("data")
        if not isinstance(values, list):
            raise MetricSourceError(f"Prometheus at {where} answered no list of {what}")
        names = {v for v in values if isinstance(v, str) and WORKLOAD_NAME.fullmatch(v)}
        return sorted(names)[: max(limit, 0)]


def bounded_get(
    client: httpx.Client,
    endpoint: str,
    params: dict[str, str],
    time_left: TimeLeft | None,
    max_bytes: int,
    what: str,
    remedy: str,
    error: type[MetricSourceError] = MetricSourceError,
) -> tuple[httpx.Response, bytes]:
    """The answer to one GET and its body, read within the time left and at most ``max_bytes``
    of it (a server sending a huge answer, or a byte at a time, raises ``error``); ``remedy``:
    what to do about an answer too large."""
    timeout = client.timeout
    if time_left is not None:
        left = max(time_left(), 0.001)
        timeout = httpx.Timeout(left if timeout.read is None else min(left, timeout.read))
    content = bytearray()
    with client.stream("GET", endpoint, params=params, timeout=timeout) as response:
        for chunk in response.iter_bytes():
            content += chunk
            if len(content) > max_bytes:
                raise error(
                    f"Prometheus's answer for {what} is over {max_bytes:,} bytes "
                    f"(metrics.max_response_bytes): {remedy}"
                )
            if time_left is not None and time_left() <= 0:
                raise error(f"no time left to read Prometheus's answer for {what}")
    return response, bytes(content)


class _QueryFailedError(MetricSourceError):
    """One query failed; the server answers, so the other metrics are still read."""


def _unreachable(where: str, exc: httpx.HTTPError) -> MetricSourceError:
    """One wording for a server that cannot be reached, whichever request found out: an
    investigation that hears it twice (its series, its services) says it once."""
    return MetricSourceError(
        f"Prometheus at {where} is unreachable ({type(exc).__name__}: {exc}); "
        "check metrics.prometheus_url"
    )


def _cut(text: str, limit: int = 300) -> str:
    """An error from the server, on one line and short enough for a note in the thread."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
