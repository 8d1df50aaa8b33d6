"""How faults and misbehaving revisions play out in the simulated cluster, and how actions undo
them.

Pure functions of time: each takes the sample times and the deployment's history (when pods were
replaced, how many were ready, which revision was live) and returns arrays. Replacing pods (a
rollout restart, a rollback, a new release) clears what lives in a pod - a leaked heap, a full
scratch disk, a certificate loaded at start-up, a place on a crowded node - but not what lives in
the revision (a crash, a slow code path, a small pool, a drifting model), which only a rollback
undoes. Scaling out adds fresh pods next to the old ones: p95 latency still follows the old pods
while they serve more than 5% of the requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from tools.sim.scenarios import Effects, Fault, ServiceProfile

FloatArray = npt.NDArray[np.float64]

REPLACE_SECONDS = 60.0  # a rolling replacement of every pod
P95_SHARE = 0.05  # requests served by affected pods above which p95 follows them
MISS_COST = 4.0  # work of a cache miss relative to a hit (recomputing from the feature store)
HEALTHY = 0.8  # utilisation below which a cold cache can refill (misses stop timing out)
REFILL_TAU = 300.0  # seconds for a refilling cache to close the gap to its normal hit ratio
PURGED_HIT_RATIO = 0.02
OOM_AT = 0.92  # working set / limit at which the kernel starts killing containers
GC_AT = 0.8  # working set / limit above which garbage collection pauses slow requests
DISK_BASE = 0.3
NODE_CPU_PCT = 45.0
THROTTLED = 0.02
TIMEOUT_MS = 800.0  # how long the service waits for its dependency


@dataclass(frozen=True)
class History:
    """What happened to one deployment, as the cluster recorded it."""

    replaced: Sequence[float]  # when every pod was replaced (restart, rollback, release), sorted
    live: Sequence[tuple[float, Effects]]  # (since, effects) of the live revision, oldest first
    purges: Sequence[float]
    ready: Callable[[FloatArray], FloatArray]  # ready replicas at each time


@dataclass
class Pressure:
    """Modifiers of the core model (identity when nothing is wrong) and the extended metrics."""

    work: FloatArray
    serving: FloatArray  # share of replicas that serve (the rest are crashing)
    slow: FloatArray  # p95 latency multiplier
    extra_ms: FloatArray
    errors: FloatArray
    metrics: dict[str, FloatArray]
    cond: dict[str, FloatArray]  # conditions the log patterns react to


def effects_at(history: History, ts: FloatArray) -> dict[str, FloatArray]:
    """Each field of the live revision's effects at each time."""
    starts = np.array([since for since, _ in history.live])
    idx = np.clip(np.searchsorted(starts, ts, side="right") - 1, 0, len(starts) - 1)
    out: dict[str, FloatArray] = {}
    for f in fields(Effects):
        values = [getattr(effects, f.name) for _, effects in history.live]
        column = np.array([np.nan if v is None else float(v) for v in values])
        out[f.name] = column[idx]
    return out


def _replaced_since(history: History, onset: float, ts: FloatArray) -> FloatArray:
    """Per time: when the pods then serving started - the onset, or a later full replacement."""
    done = np.array([t + REPLACE_SECONDS for t in history.replaced if t + REPLACE_SECONDS > onset])
    if done.size == 0:
        return np.full_like(ts, onset)
    idx = np.searchsorted(done, ts, side="right") - 1
    return np.where(idx >= 0, done[np.maximum(idx, 0)], onset)


def _old_share(history: History, since: FloatArray, ts: FloatArray) -> FloatArray:
    """Share of the ready pods that were already running at ``since`` (scaling adds new ones)."""
    return np.minimum(1.0, history.ready(since) / np.maximum(history.ready(ts), 1.0))


def _p95(share: FloatArray) -> FloatArray:
    return np.clip(share / P95_SHARE, 0.0, 1.0)


def hit_ratio(
    profile: ServiceProfile,
    resets: Sequence[tuple[float, float]],
    history: History,
    ready_changes: Sequence[float],
    utilisation_at: Callable[[float, float], float],
    ts: FloatArray,
) -> FloatArray:
    """The cache hit ratio: normal until a reset (a mass expiry or a purge) drops it to a floor;
    it refills only once the replicas can absorb the misses (a thundering herd keeps itself going:
    misses time out and are never written back)."""
    hit = np.full_like(ts, profile.hit_ratio)
    ordered = sorted(resets)
    for i, (start, floor) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else np.inf
        candidates = [start] + [c for c in ready_changes if start < c < end]
        ok = next((c for c in candidates if utilisation_at(c, floor) < HEALTHY), None)
        segment = (ts >= start) & (ts < end)
        if ok is None:
            hit = np.where(segment, floor, hit)
            continue
        gap = profile.hit_ratio - floor
        refill = profile.hit_ratio - gap * np.exp(-np.maximum(ts - ok, 0.0) / REFILL_TAU)
        hit = np.where(segment, np.where(ts >= ok, refill, floor), hit)
    return hit


def miss_work(profile: ServiceProfile, hit: FloatArray) -> FloatArray:
    """Work per request relative to normal, given the hit ratio."""
    return (1 + MISS_COST * (1 - hit)) / (1 + MISS_COST * (1 - profile.hit_ratio))


@dataclass
class _PodFaults:
    """What the faults that live in pods or around them do at each time."""

    slow: FloatArray
    work: FloatArray
    throttled: FloatArray
    node_cpu: FloatArray
    disk: FloatArray  # used share of the fullest scratch disk
    disk_full: FloatArray  # share of requests failing on a full disk
    tls: FloatArray  # share of pods holding an expired certificate
    upstream: FloatArray  # dependency latency
    delay_ms: FloatArray  # added to every response by a network delay on the pods
    leak: FloatArray  # leaked share of the memory limit in the pods running since the leak began
    leak_share: FloatArray  # share of the pods that carry it


def _pod_faults(
    profile: ServiceProfile,
    faults: Sequence[Fault],
    anchor: float,
    history: History,
    ts: FloatArray,
    upstream: FloatArray | None,
) -> _PodFaults:
    one, zero = np.ones_like(ts), np.zeros_like(ts)
    out = _PodFaults(
        slow=one.copy(),
        work=one.copy(),
        throttled=one * THROTTLED,
        node_cpu=one * NODE_CPU_PCT,
        disk=one * DISK_BASE,
        disk_full=zero.copy(),
        tls=zero.copy(),
        upstream=one * profile.dependency_latency_ms if upstream is None else upstream.copy(),
        delay_ms=zero.copy(),
        leak=zero.copy(),
        leak_share=zero.copy(),
    )
    for fault in faults:
        onset = anchor + fault.offset
        active = ts >= onset
        since = _replaced_since(history, onset, ts)
        old = _old_share(history, since, ts)
        if fault.kind == "noisy_neighbour":
            crowded = active & (since <= onset)
            share = np.where(crowded, fault.size / np.maximum(history.ready(ts), 1.0), 0.0)
            out.slow *= 1 + 2.0 * _p95(share)
            out.work *= 1 - 0.3 * share
            out.throttled += 0.5 * share
            out.node_cpu = np.where(crowded, 97.0, out.node_cpu)
        elif fault.kind == "leak":
            out.leak = np.where(active, fault.size / 3600.0 * (ts - since), out.leak)
            out.leak_share = np.where(active, old, out.leak_share)
        elif fault.kind == "disk_fill":
            used = np.minimum(1.0, DISK_BASE + fault.size / 3600.0 * (ts - since))
            out.disk = np.where(active, used, out.disk)
            full = np.clip((used - 0.97) / 0.03, 0.0, 1.0) * old
            out.disk_full = np.where(active, full, out.disk_full)
        elif fault.kind == "cert_expiry":
            stale = active & (since <= onset)
            out.tls = np.where(stale, _old_share(history, np.full_like(ts, onset), ts), out.tls)
        elif fault.kind == "slow_dependency":
            slower = profile.dependency_latency_ms * fault.size
            out.upstream = np.where(active, slower, out.upstream)
        elif fault.kind == "network_delay":
            delayed = active & (since <= onset)
            out.delay_ms = np.where(delayed, fault.size, out.delay_ms)
    return out


def pressure(
    profile: ServiceProfile,
    faults: Sequence[Fault],
    anchor: float,
    history: History,
    ts: FloatArray,
    hit: FloatArray,
    rate: FloatArray,
    dependency: tuple[FloatArray, FloatArray] | None = None,
) -> Pressure:
    """What the faults and the live revision do to the service before load is applied.
    ``dependency``: the latency and error ratio of the service it calls, when that service is
    simulated too (otherwise a steady ``dependency_latency_ms`` and no errors)."""
    zero = np.zeros_like(ts)
    eff = effects_at(history, ts)
    upstream, upstream_errors = dependency if dependency is not None else (None, zero)
    pods = _pod_faults(profile, faults, anchor, history, ts, upstream)
    timeouts = np.clip(pods.upstream / TIMEOUT_MS - 0.5, 0.0, 1.0)
    work = eff["cpu_cost"] * pods.work * (1 - 0.25 * timeouts) * (1 + 0.5 * pods.tls)
    if profile.hit_ratio:
        work = work * miss_work(profile, hit)
    extra = eff["extra_latency_ms"] + np.minimum(pods.upstream, TIMEOUT_MS) + pods.delay_ms
    extra = extra - profile.dependency_latency_ms
    errors = 0.6 * eff["crash"] + 0.15 * timeouts + 0.3 * pods.disk_full + 0.55 * pods.tls
    errors = errors + upstream_errors  # a failed call fails the request that made it
    slow = pods.slow * (1 + 0.8 * _p95(pods.tls))

    metrics: dict[str, FloatArray] = {
        "pod_restarts_per_min": 1.2 * eff["crash"] * history.ready(ts),
        "cpu_throttled_ratio": pods.throttled,
        "node_cpu_utilization_pct": pods.node_cpu,
        "disk_usage_ratio": pods.disk,
    }
    if profile.dependency:
        metrics["upstream_latency_ms"] = pods.upstream
        metrics["upstream_error_ratio"] = 0.001 + 0.999 * pods.tls + upstream_errors
    if profile.hit_ratio:
        metrics["cache_hit_ratio"] = hit
    if profile.ctr:
        metrics["click_through_rate"] = profile.ctr * (1 - eff["drift"])
        metrics["feature_drift_psi"] = 0.03 + eff["drift"]
    demand = zero
    if profile.pool_size:
        pool = np.where(np.isnan(eff["pool_size"]), float(profile.pool_size), eff["pool_size"])
        demand = rate / np.maximum(history.ready(ts), 1.0) * profile.pool_hold_seconds / pool
        wait = 2.0 + 1500.0 * np.clip(demand - 0.9, 0.0, 1.5)
        extra = extra + wait
        errors = errors + 0.25 * np.clip(demand - 1.0, 0.0, 1.0)
        metrics["db_pool_in_use_ratio"] = np.minimum(demand, 1.0)
        metrics["db_pool_wait_ms"] = wait
    cond = {
        "disk": pods.disk,
        "miss": 1 - hit if profile.hit_ratio else zero,
        "upstream": pods.upstream / profile.dependency_latency_ms,
        "pool": demand,
        "crash": eff["crash"],
        "tls": pods.tls,
        "drift": eff["drift"],
        "slow": eff["extra_latency_ms"] / 100.0,
        "leak": pods.leak,
        "leak_share": pods.leak_share,
        "upstream_errors": upstream_errors,
    }
    return Pressure(work, 1.0 - 0.5 * eff["crash"], slow, extra, errors, metrics, cond)


def memory(
    profile: ServiceProfile, p: Pressure, utilisation: FloatArray, latency_ratio: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Working set / limit (mean over pods), the p95 latency multiplier from garbage collection,
    and the share of pods being OOM-killed: memory follows the requests in flight per pod, plus
    whatever leaked in the pods that have run since a leak began."""
    in_flight = profile.memory_per_load * utilisation * np.minimum(latency_ratio, 2.0)
    fresh = profile.memory_base + in_flight
    old = np.minimum(fresh + p.cond["leak"], 0.97)
    share = p.cond["leak_share"]
    mean = share * old + (1 - share) * np.minimum(fresh, 0.97)
    worst = np.maximum(old, fresh)
    gc = 1 + 2.5 * np.clip((old - GC_AT) / 0.15, 0.0, 1.0) * _p95(share)
    oom = np.clip((worst - OOM_AT) / 0.05, 0.0, 1.0) * np.where(old > fresh, share, 1.0)
    p.cond["mem"] = worst
    p.cond["oom"] = oom
    return mean, gc, oom
