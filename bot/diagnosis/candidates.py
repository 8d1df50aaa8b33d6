"""Which services an investigation looks at around the alerting one (issue 14): the alerting
service first, then what it calls (its dependencies, nearest first), then what calls it, then the
rest of the namespace's workloads - at most ``limit``, so a namespace of hundreds of services costs
a bounded investigation. The call graph comes from ``dependencies:`` in the configuration (each
service -> the services it calls, in the same namespace); without it every other workload is a
plain neighbour. Pure: the workloads are listed by the cluster backend and passed in."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Relation = Literal["alerting", "calls", "called_by", "namespace"]


@dataclass(frozen=True)
class Candidate:
    """A service that may be where the fault started, and how it relates to the alerting one:
    ``hops`` calls away along the configured dependencies (0: the alerting service itself; for
    a plain neighbour, None)."""

    service: str
    relation: Relation
    hops: int | None


def candidates(
    service: str,
    workloads: Sequence[str],
    dependencies: Mapping[str, Sequence[str]],
    limit: int,
) -> list[Candidate]:
    """The alerting ``service``, its dependencies (breadth first), its callers (breadth first),
    then the other ``workloads`` by name; each service once, at most ``limit`` in all."""
    callers: dict[str, list[str]] = {}
    for caller, callees in dependencies.items():
        for callee in callees:
            callers.setdefault(callee, []).append(caller)
    found: dict[str, Candidate] = {service: Candidate(service, "alerting", 0)}
    graphs: tuple[tuple[Relation, Mapping[str, Sequence[str]]], ...] = (
        ("calls", dependencies),
        ("called_by", callers),
    )
    for relation, graph in graphs:
        for name, hops in _reachable(service, graph):
            found.setdefault(name, Candidate(name, relation, hops))
    for name in sorted(workloads):
        found.setdefault(name, Candidate(name, "namespace", None))
    return list(found.values())[: max(limit, 1)]


def _reachable(start: str, graph: Mapping[str, Sequence[str]]) -> list[tuple[str, int]]:
    """Every service reachable from ``start`` along ``graph``, nearest first, with its distance;
    cycles (a calls b calls a) end where a service was already reached."""
    seen = {start}
    order: list[tuple[str, int]] = []
    queue = deque([(start, 0)])
    while queue:
        name, hops = queue.popleft()
        for nxt in sorted(graph.get(name, ())):
            if nxt not in seen:
                seen.add(nxt)
                order.append((nxt, hops + 1))
                queue.append((nxt, hops + 1))
    return order
