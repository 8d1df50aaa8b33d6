"""Kubernetes pod logs through the official client: every pod of a workload (a Deployment, else a
StatefulSet of that name - a database or a queue is often where a fault starts - found by its
label selector), every container, the previous container instance too when it
restarted, over a time window. At most ``max_lines`` lines and ``limit_bytes`` bytes in all (the
most recent of each container, shared evenly between them), each request within the caller's time
left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes.client import AppsV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from knowledge.errors import LogSourceError
from knowledge.log_files import ReadReport, parse_any
from knowledge.logs import LogLine, TimeLeft, iso_seconds

MIN_READ_BYTES = 64 * 1024  # a container's smallest share of limit_bytes: beyond
# limit_bytes // MIN_READ_BYTES containers (762 by default) the first ones are read


class KubernetesLogSource:
    """A ``LogSource`` over the Kubernetes API (clients injected, e.g. from a kubeconfig)."""

    def __init__(
        self,
        core: CoreV1Api,
        apps: AppsV1Api,
        *,
        now: Callable[[], float] = time.time,
        limit_bytes: int = 50_000_000,
        timeout_seconds: float = 10.0,
        max_lines: int = 50_000,
    ) -> None:
        self._core = core
        self._apps = apps
        self._now = now
        self._limit_bytes = limit_bytes
        self._timeout = timeout_seconds  # per request: a hung API server must not hang the alert
        self._max_lines = max_lines
        self.report = ReadReport()

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[LogLine]:
        try:
            workload = self._workload(namespace, service, time_left)
            labels = workload.spec.selector.match_labels or {}
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            pods = self._core.list_namespaced_pod(
                namespace, label_selector=selector, _request_timeout=self._timeout_within(time_left)
            ).items
        except ApiException as exc:
            raise LogSourceError(
                f"cannot list the pods of {namespace}/{service}: {exc.status} {exc.reason}"
            ) from exc
        except HTTPError as exc:
            raise LogSourceError(f"Kubernetes API unreachable: {exc}") from exc
        since = max(1, int(self._now() - start) + 1)
        reads = [
            (str(pod.metadata.name) if pod.metadata else "", container, previous)
            for pod in pods
            for container, restarted in _containers(pod)
            for previous in ((False, True) if restarted else (False,))
        ]
        reads = reads[: max(1, min(self._max_lines, self._limit_bytes // MIN_READ_BYTES))]
        tail = max(1, self._max_lines // max(len(reads), 1))
        size = self._limit_bytes // max(len(reads), 1)
        lines: list[LogLine] = []
        for name, container, previous in reads:
            lines += self._read(
                namespace, name, container, since, previous, tail, size,
                self._timeout_within(time_left),
            )  # fmt: skip
        lines = [line for line in lines if start <= line.timestamp < end]
        lines.sort(key=lambda line: line.timestamp)
        return lines

    def _workload(self, namespace: str, service: str, time_left: TimeLeft | None) -> Any:
        """The Deployment named ``service``, else the StatefulSet (ApiException when neither)."""
        try:
            return self._apps.read_namespaced_deployment(
                service, namespace, _request_timeout=self._timeout_within(time_left)
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
        return self._apps.read_namespaced_stateful_set(
            service, namespace, _request_timeout=self._timeout_within(time_left)
        )

    def _timeout_within(self, time_left: TimeLeft | None) -> float:
        """The per-request timeout, never beyond the caller's time left."""
        if time_left is None:
            return self._timeout
        left = time_left()
        if left <= 0:
            raise LogSourceError("no time left to read the pod logs")
        return min(self._timeout, left)

    def _read(
        self,
        namespace: str,
        pod: str,
        container: str,
        since: int,
        previous: bool,
        tail: int,
        size: int,
        timeout: float,
    ) -> list[LogLine]:
        try:
            # The bytes as they are, decoded here: the client's own decoding is strict, so one
            # byte that is not UTF-8 - a binary write, or a character cut by limit_bytes - lost
            # the whole investigation (a UnicodeDecodeError: "an internal error" in the thread).
            # Unloaded, the call returns urllib3's response, not the str its annotation says.
            response: Any = self._core.read_namespaced_pod_log(
                pod,
                namespace,
                container=container,
                since_seconds=since,
                timestamps=True,
                previous=previous,
                limit_bytes=size,
                tail_lines=tail,
                _request_timeout=timeout,
                _preload_content=False,
            )
            body = response.data.decode("utf-8", "replace")
            kind = response.headers.get("content-type")  # text/plain; JSON from some emulators
            text = str(self._core.api_client.deserialize(body, "str", kind))
        except ApiException as exc:
            if previous and exc.status in (400, 404):  # no previous instance after all
                return []
            raise LogSourceError(
                f"cannot read the logs of {namespace}/{pod}/{container}: {exc.status} {exc.reason}"
            ) from exc
        except HTTPError as exc:
            raise LogSourceError(f"Kubernetes API unreachable: {exc}") from exc
        source = f"{pod}/{container}" + (" (previous)" if previous else "")
        return [line for raw in text.splitlines() if (line := _line(raw, source))]


def _containers(pod: Any) -> list[tuple[str, bool]]:
    restarts = {s.name: (s.restart_count or 0) > 0 for s in pod.status.container_statuses or []}
    return [(c.name, restarts.get(c.name, False)) for c in pod.spec.containers]


def _line(raw: str, source: str) -> LogLine | None:
    """``<RFC3339Nano time> <message>`` as the API returns with timestamps=true."""
    stamp, _, rest = raw.partition(" ")
    timestamp = iso_seconds(stamp)
    if not timestamp or not rest.strip():
        return None
    parsed = parse_any(rest)
    if parsed is None:
        return None
    return LogLine(timestamp, parsed.message, parsed.level, source)
