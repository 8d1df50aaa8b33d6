"""Each service's own yardstick for the origin ranking: the evidence of a namespace's earlier
investigations, kept so a live investigation compares a service with itself (a service that
always logs errors is not the origin for logging them), as ``medic eval rca`` compares each
incident with the others. Without it the ranking falls back on the other services of the same
window, which on Nezha names the origin first in about half the incidents instead of nine in ten.

Kept in memory, bounded: the last ``keep`` investigations of each of at most ``NAMESPACES``
namespaces (the least recently investigated is forgotten first), each service's channel values
only (what the ranking compares; the evidence texts and templates, which came from its logs, are
not kept); a restart starts empty.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Mapping

from knowledge.ranking import Features

NAMESPACES = 64


class OriginHistory:
    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._by_namespace: OrderedDict[str, deque[Mapping[str, Features]]] = OrderedDict()
        self._lock = threading.Lock()

    def past(self, namespace: str) -> list[Mapping[str, Features]]:
        """The evidence of the namespace's earlier investigations, oldest first."""
        with self._lock:
            return list(self._by_namespace.get(namespace, ()))

    def keep(self, namespace: str, found: Mapping[str, Features]) -> None:
        """Remember one investigation's evidence (every service ranked)."""
        if self._keep <= 0 or not found:
            return
        with self._lock:
            kept = self._by_namespace.pop(namespace, None) or deque(maxlen=self._keep)
            kept.append(
                {name: Features(dict(f.channels), None, (), ()) for name, f in found.items()}
            )
            self._by_namespace[namespace] = kept
            while len(self._by_namespace) > NAMESPACES:
                self._by_namespace.popitem(last=False)
