"""Each service's own yardstick for the origin ranking: the evidence of a namespace's earlier
investigations, kept so a live investigation compares a service with itself (a service that
always logs errors is not the origin for logging them), as ``medic eval rca`` compares each
incident with the others. Without it the ranking falls back on the other services of the same
window, which on Nezha names the origin first in about half the incidents instead of nine in ten.

Two keepers behind one protocol (:class:`OriginHistory`): :class:`MemoryHistory`, for tests and
the evaluation, and ``bot.diagnosis.origin_store.StoredHistory``, the state database's, which
the flow gets (kept across restarts, shared by replicas). Both keep the same bounded thing: the
last ``keep`` investigations of a namespace, each service's channel values only - what the
ranking compares; the evidence texts and templates, which came from its logs, are never kept -
and only names and numbers that fit (:func:`numbers_of`): the services and values come from the
cluster and its logs, so they are bounded here rather than trusted. Each investigation is kept
with the origin it named (its leader), so a service's yardstick can leave out its own faults
(``knowledge.origins.normal_windows``): a fault that recurs must not become its usual.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from knowledge.ranking import Features

NAMESPACES = 64  # in memory: namespaces kept (the least recently investigated forgotten first)
MAX_NAME = 63  # a Kubernetes name (namespace, workload) is at most 63 characters
MAX_SERVICES = 500  # investigation.max_candidates' own ceiling
MAX_CHANNELS = 16  # the ranking computes about a dozen channels
MAX_CHANNEL_NAME = 32
MAX_VALUE = 1e12  # a channel value past this is as extreme as it gets; kept finite

Numbers = dict[str, dict[str, float]]  # service -> channel -> value


class HistoryUnavailableError(Exception):
    """The kept evidence could not be read or written (the state database is down): the
    investigation ranks on the other services of its window and says so once."""


class Recalled(NamedTuple):
    """The namespace's earlier investigations, oldest first: each one's evidence, and the
    service it named the origin (None: none clearly), one for one."""

    windows: list[Mapping[str, Features]]
    leaders: list[str | None]


class OriginHistory(Protocol):
    def recall(self, namespace: str) -> Recalled:
        """The evidence of the namespace's earlier investigations and their leaders, oldest
        first (raises :class:`HistoryUnavailableError`)."""
        ...

    def keep(
        self, namespace: str, found: Mapping[str, Features], leader: str | None = None
    ) -> None:
        """Remember one investigation's evidence, every service ranked, and the origin it named
        (raises :class:`HistoryUnavailableError`)."""
        ...


def numbers_of(found: Mapping[str, object]) -> Numbers:
    """The channel values worth keeping from ``found`` (service -> ``Features``, or -> a mapping
    of channel values as read back from storage): services with a name that can be a workload's,
    at most ``MAX_SERVICES``; per service at most ``MAX_CHANNELS`` named channels with finite
    values, clamped. Anything else - markup, absurd lengths, NaN, nested junk - is dropped."""
    out: Numbers = {}
    for name, item in found.items():
        if len(out) >= MAX_SERVICES:
            break
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
            continue
        channels = item.channels if isinstance(item, Features) else item
        if not isinstance(channels, Mapping):
            continue
        values: dict[str, float] = {}
        for channel, value in channels.items():
            if len(values) >= MAX_CHANNELS:
                break
            if not isinstance(channel, str) or not 0 < len(channel) <= MAX_CHANNEL_NAME:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not math.isfinite(value):
                continue
            values[channel] = round(max(-MAX_VALUE, min(MAX_VALUE, float(value))), 6)
        out[name] = values
    return out


def as_features(numbers: Numbers) -> dict[str, Features]:
    """Kept numbers as the ranking reads them: channel values, no evidence text."""
    return {name: Features(dict(values), None, (), ()) for name, values in numbers.items()}


class MemoryHistory:
    """In memory, bounded: the last ``keep`` investigations of each of at most ``NAMESPACES``
    namespaces (the least recently investigated is forgotten first); a restart starts empty."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._by_namespace: OrderedDict[str, deque[tuple[Mapping[str, Features], str | None]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def past(self, namespace: str) -> list[Mapping[str, Features]]:
        """The evidence alone (``recall``'s windows)."""
        return self.recall(namespace).windows

    def recall(self, namespace: str) -> Recalled:
        with self._lock:
            kept = list(self._by_namespace.get(namespace, ()))
        return Recalled([found for found, _ in kept], [leader for _, leader in kept])

    def keep(
        self, namespace: str, found: Mapping[str, Features], leader: str | None = None
    ) -> None:
        numbers = numbers_of(found)
        if self._keep <= 0 or not numbers:
            return
        with self._lock:
            kept = self._by_namespace.pop(namespace, None) or deque(maxlen=self._keep)
            kept.append((as_features(numbers), leader if leader in numbers else None))
            self._by_namespace[namespace] = kept
            while len(self._by_namespace) > NAMESPACES:
                self._by_namespace.popitem(last=False)
