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
    preview = sim.purge("recommender:*", dry_run=True)
    purged = sim.purge("recommender:*")
    clock.sleep(120)
    assert preview == purged and purged.keys > 0 and (purged.bytes_freed or 0) > 0.5 * before
    assert recent_median(sim, "cache_memory_bytes", 60) < before / 2


def test_purge_pattern_only_touches_matching_services(sim: SimulatedCluster) -> None:
    assert sim.purge("checkout:*").keys > 0
    assert sim.purge("nothing-here:*").keys == 0


def test_rollback_goes_to_the_previous_revision_as_a_new_one(sim: SimulatedCluster) -> None:
    preview = sim.rollback("shop", "checkout", dry_run=True)
    assert (preview.from_revision, preview.to_revision) == (7, 6)
    assert sim.get_deployment("shop", "checkout").revision == 7
    done = sim.rollback("shop", "checkout")
    assert (done.from_revision, done.to_revision) == (7, 8)
    assert done.to_images == preview.to_images == ("registry.example/shop/checkout:1.41.0",)
    info = sim.get_deployment("shop", "checkout")
    assert (info.revision, info.images) == (8, done.to_images)
    assert [r.revision for r in sim.recent_rollouts("shop", "checkout")] == [8, 7]


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
