"""The wide namespace behind the scale benchmark: fifty services that look like real ones, the
cascade still playing among them, and nobody else failing."""

from __future__ import annotations

import numpy as np

from tools.clock import VirtualClock
from tools.sim import SimulatedCluster
from tools.sim.namespace import CASCADE, wide_cascade

START = 1_800_000_000.0


def test_fifty_distinct_services_around_the_cascade() -> None:
    scenario = wide_cascade(50)
    names = [p.name for p in scenario.services]
    assert len(names) == len(set(names)) == 50
    assert {p.name for p in CASCADE.services} <= set(names)
    assert scenario.service == "frontend" and scenario.origin == "payments"
    assert wide_cascade(50) == scenario  # the same namespace every time


def test_each_service_exports_at_least_ten_metrics() -> None:
    sim = SimulatedCluster(wide_cascade(50), VirtualClock(START))
    counts = {
        name: len(sim.metrics("shop", name, START - 600, START))
        for name in sim.workloads("shop", 100)
    }
    assert min(counts.values()) >= 10, counts


def test_calls_form_short_chains_without_cycles() -> None:
    graph = SimulatedCluster(wide_cascade(50), VirtualClock(START)).call_graph("shop")
    assert graph["frontend"] == ["checkout"] and graph["checkout"] == ["payments"]

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        assert name not in seen, f"a cycle through {name}"
        return 1 + max((depth(c, (*seen, name)) for c in graph.get(name, ())), default=0)

    assert max(depth(name) for name in graph) <= 4
    assert sum(1 for name in graph if name not in {"frontend", "checkout"}) >= 20


def test_only_the_cascade_fails() -> None:
    """payments' release fails frontend through checkout; the neighbours stay healthy."""
    sim = SimulatedCluster(wide_cascade(50), VirtualClock(START))

    def errors(name: str, start: float, end: float) -> float:
        found = {s.metric: s for s in sim.metrics("shop", name, start, end)}
        return float(np.median(found["error_ratio"].values))

    for name in ("payments", "checkout", "frontend"):
        assert errors(name, START - 600, START) > 5 * errors(name, START - 3600, START - 1800)
    for name in sim.workloads("shop", 100):
        if name not in {p.name for p in CASCADE.services}:
            assert errors(name, START - 600, START) < 0.01, name
