"""Where metric series come from: a protocol, and the in-memory source of the demo and tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from detectors.errors import MetricSourceError
from detectors.series import Series

__all__ = ["Fetcher", "InMemoryMetricSource", "MetricSource", "MetricSourceError", "TimeLeft"]

# Seconds the caller can still wait (an investigation's budget): a source asks before each
# request and waits no longer; at 0 it stops with MetricSourceError.
TimeLeft = Callable[[], float]


class MetricSource(Protocol):
    """Series for one service over a time range (Unix seconds, end exclusive)."""

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[Series]: ...


Fetcher = Callable[[str, str, float, float], Sequence[Series]]


class InMemoryMetricSource:
    """Answers from a callable, so a simulation whose state changes can serve live metrics; at
    most ``max_points`` per series (evenly spread) whatever the callable returns."""

    def __init__(self, fetcher: Fetcher, max_points: int | None = None) -> None:
        self._fetcher = fetcher
        self._max_points = max_points

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[Series]:
        if time_left is not None and time_left() <= 0:
            raise MetricSourceError("no time left to read the metrics")
        found = [s.between(start, end) for s in self._fetcher(namespace, service, start, end)]
        return [s.at_most(self._max_points) for s in found] if self._max_points else found
