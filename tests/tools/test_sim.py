"""The simulated cluster responds to actions the way the demo needs it to."""

from __future__ import annotations

import numpy as np

from tools.clock import VirtualClock
from tools.sim import SimulatedCluster


def recent_median(sim: SimulatedCluster, metric: str, seconds: float = 180) -> float:
    now = sim.clock.now()
    series = {s.metric: s for s in sim.metrics("shop", "recommender", now - seconds, now)}
    return float(np.median(series[metric].values))


def test_surge_raises_latency_and_scaling_out_lowers_it(
    sim: SimulatedCluster, clock: VirtualClock
) -> None:
    before = recent_median(sim, "latency_p95_ms")
    sim.scale("shop", "recommender", 6)
    clock.sleep(300)
    after = recent_median(sim, "latency_p95_ms")
    assert before > 1000
    assert after < before / 3


def test_purging_the_cache_frees_memory(sim: SimulatedCluster, clock: VirtualClock) -> None:
    before = recent_median(sim, "cache_memory_bytes", 60)
    keys, freed = sim.purge("recommender:*")
    clock.sleep(120)
    assert keys > 0 and freed > 0.5 * before
    assert recent_median(sim, "cache_memory_bytes", 60) < before / 2


def test_purge_pattern_only_touches_matching_services(sim: SimulatedCluster) -> None:
    assert sim.purge("checkout:*")[0] > 0
    assert sim.purge("nothing-here:*") == (0, 0)


def test_metrics_are_deterministic_and_end_at_now(
    sim: SimulatedCluster, clock: VirtualClock
) -> None:
    now = clock.now()
    a = sim.metrics("shop", "checkout", now - 600, now + 600)
    b = sim.metrics("shop", "checkout", now - 600, now + 600)
    assert all(np.array_equal(x.values, y.values) for x, y in zip(a, b, strict=True))
    assert a[0].timestamps.max() <= now


def test_logs_show_payload_warnings_only_after_the_surge(
    sim: SimulatedCluster, clock: VirtualClock
) -> None:
    now = clock.now()
    before = sim.logs("shop", "recommender", now - 3600, now - 1500)
    during = sim.logs("shop", "recommender", now - 600, now)
    assert not [line for line in before if "exceeds soft limit" in line.message]
    assert [line for line in during if "exceeds soft limit" in line.message]
