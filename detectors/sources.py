"""Where metric series come from: a protocol, and the in-memory source of the demo and tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from detectors.errors import MetricSourceError
from detectors.series import Series

__all__ = ["Fetcher", "InMemoryMetricSource", "MetricSource", "MetricSourceError"]


class MetricSource(Protocol):
    """Series for one service over a time range (Unix seconds, end exclusive)."""

    def fetch(self, namespace: str, service: str, start: float, end: float) -> list[Series]: ...


Fetcher = Callable[[str, str, float, float], Sequence[Series]]


class InMemoryMetricSource:
    """Answers from a callable, so a simulation whose state changes can serve live metrics."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher

    def fetch(self, namespace: str, service: str, start: float, end: float) -> list[Series]:
        return [s.between(start, end) for s in self._fetcher(namespace, service, start, end)]
