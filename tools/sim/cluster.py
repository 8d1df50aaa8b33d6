"""The simulated cluster: deployments whose metrics and logs follow from the scenario and from the
actions taken on them. Everything is a deterministic function of (time, state history), so a
metric read twice gives the same answer and a read after an action shows its effect.

(About 500 lines, ``SimulatedCluster`` about 350, on purpose: it implements every backend
interface - cluster, cache, silences, metrics and logs - over that one history, and splitting the
history between classes would let them disagree about what happened when.)
"""

from __future__ import annotations

import fnmatch
import math
import uuid
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from detectors.features import FeatureWindow
from detectors.sources import TimeLeft
from tools.backends import (
    ClusterEvent,
    DeploymentInfo,
    PodRestarts,
    PurgeResult,
    RollbackPlan,
    Rollout,
    SilenceRequest,
    template_digest,
)
from tools.clock import Clock
from tools.errors import InvalidRequestError, TargetNotFoundError
from tools.sim import faults
from tools.sim.models import ShopModel, shop_model_for
from tools.sim.scenarios import Effects, Release, Scenario, ServiceProfile

FloatArray = npt.NDArray[np.float64]

STEP = 15.0  # seconds between metric samples, like a Prometheus scrape interval
EVENT_BUCKET = 300.0  # seconds: one Event per pod and reason per bucket, with its count
SIM_EVENT_TEXT = {  # worded as the kubelet words them
    "OOMKilled": "Container {container} in pod {pod} was OOMKilled (exit code 137): "
    "memory limit reached",
    "BackOff": "Back-off restarting failed container {container} in pod {pod}",
    "Evicted": "The node was low on resource: ephemeral-storage. Container {container} was "
    "using more than its request.",
}
READY_DELAY = 30.0  # seconds before a new replica takes traffic
CACHE_FILL_TAU = 180.0  # seconds for the cache to follow a change in entry size
CACHE_WARMUP_TAU = 1200.0  # seconds for a purged cache to refill
PURGE_REMAINDER = 0.05  # fraction of the cache left right after a purge (entries in flight)
EXTENDED_NOISE = {
    "memory_working_set_ratio": 0.02,
    "cpu_throttled_ratio": 0.1,
    "node_cpu_utilization_pct": 0.04,
    "disk_usage_ratio": 0.005,
    "upstream_latency_ms": 0.06,
    "upstream_error_ratio": 0.1,
    "cache_hit_ratio": 0.01,
    "click_through_rate": 0.03,
    "feature_drift_psi": 0.1,
    "db_pool_wait_ms": 0.1,
}


class SimSeries(NamedTuple):
    metric: str
    labels: dict[str, str]
    timestamps: FloatArray
    values: FloatArray


class SimLogLine(NamedTuple):
    timestamp: float
    level: str
    pod: str
    message: str

    def render(self) -> str:
        iso = datetime.fromtimestamp(self.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return f"{iso}Z {self.level} {self.pod} {self.message}"


@dataclass(frozen=True)
class _Revision:
    """One revision of a deployment's pod template, as its ReplicaSet records it."""

    number: int
    image: str
    created: float
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    change_cause: str = ""
    effects: Effects = field(default_factory=Effects)


@dataclass
class _Deployment:
    profile: ServiceProfile
    replica_changes: list[tuple[float, int]]
    purges: list[float] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)
    restarted_at: str | None = None  # the last rollout restart's stamp
    # every revision, oldest first; ``revision`` is the live one
    revisions: list[_Revision] = field(default_factory=list)
    revision: int = 7
    # (since, effects) of the live template, oldest first: what faults.py needs to know
    live: list[tuple[float, Effects]] = field(default_factory=list)

    @property
    def replicas(self) -> int:
        return self.replica_changes[-1][1]

    def template(self, revision: int) -> str:
        """The digest of a revision's pod template (what a rollback puts back)."""
        found = self.get(revision)
        if found is None:
            return ""
        return template_digest([found.image, found.labels, found.annotations])

    def get(self, revision: int) -> _Revision | None:
        return next((r for r in self.revisions if r.number == revision), None)

    def image_of(self, revision: int) -> str:
        found = self.get(revision)
        return found.image if found else "unknown"

    def release(self, at: float, template: _Revision) -> _Revision:
        """A new live revision with ``template``'s contents, created ``at``."""
        number = max(r.number for r in self.revisions) + 1
        new = replace(template, number=number, created=at)
        self.revisions.append(new)
        self.revision = number
        self.live.append((at, new.effects))
        return new


def _noise(key: str, ts: FloatArray) -> FloatArray:
    """Deterministic noise in [-1, 1) per (series, sample time): splitmix64 of the sample index."""
    with np.errstate(over="ignore"):
        x = (ts // STEP).astype(np.int64).astype(np.uint64) ^ np.uint64(zlib.crc32(key.encode()))
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.asarray((x >> np.uint64(11)).astype(np.float64) / 2.0**52 - 1.0, dtype=np.float64)


class SimulatedCluster:
    """Deployments of one namespace, driven by a scenario anchored at the clock's current time."""

    def __init__(self, scenario: Scenario, clock: Clock) -> None:
        self.scenario = scenario
        self.clock = clock
        self.anchor = clock.now()
        self._world = uuid.uuid4().hex[:8]
        self._deployments = {p.name: self._deployment(p) for p in scenario.services}
        self.silences: list[tuple[str, SilenceRequest]] = []
        # the registered model a service serves (tools/sim/models.py), when one does
        self.shop_model: ShopModel | None = shop_model_for(scenario, self.anchor)

    def _deployment(self, profile: ServiceProfile) -> _Deployment:
        """Two old revisions, then the scenario's releases of this service."""
        dep = _Deployment(profile, [(-math.inf, profile.replicas)])
        for number, version, age in ((6, "1.41.0", 9 * 86400.0), (7, "1.42.0", 2 * 86400.0)):
            image = f"registry.example/shop/{profile.name}:{version}"
            labels = dict(profile.template_labels)
            dep.revisions.append(_Revision(number, image, self.anchor - age, labels))
        dep.live.append((-math.inf, Effects()))
        releases: list[Release] = [r for r in self.scenario.releases if r.service == profile.name]
        for release in sorted(releases, key=lambda r: r.offset):
            current = dep.revisions[-1]
            template = _Revision(
                number=0,
                image=release.image or current.image,
                created=0.0,
                labels={**current.labels, **release.labels},
                annotations={**current.annotations, **release.annotations},
                change_cause=release.change_cause,
                effects=release.effects,
            )
            dep.release(self.anchor + release.offset, template)
        return dep

    # --- cluster backend -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Each simulated cluster is its own world, even two started in the same second:
        cooldowns never carry over between runs, and an action interrupted in one is never
        judged by another's state."""
        return f"sim:{self.scenario.name}@{self.anchor:.0f}#{self._world}"

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo:
        dep = self._find(namespace, name)
        now = self.clock.now()
        return DeploymentInfo(
            namespace=namespace,
            name=name,
            replicas=dep.replicas,
            ready_replicas=int(self._ready_replicas(dep, np.array([now]))[0]),
            revision=dep.revision,
            images=(dep.image_of(dep.revision),),
            restarted_at=dep.restarted_at,
            template=dep.template(dep.revision),
        )

    def workloads(self, namespace: str, limit: int) -> list[str]:
        if namespace != self.scenario.namespace:
            return []
        return sorted(self._deployments)[:limit]

    def call_graph(self, namespace: str) -> dict[str, list[str]]:
        """Who calls whom in the shop (each service's dependency that is simulated too), as a
        trace source would tell it."""
        if namespace != self.scenario.namespace:
            return {}
        return {
            name: [dep.profile.dependency]
            for name, dep in sorted(self._deployments.items())
            if dep.profile.dependency in self._deployments
        }

    def list_deployments(self, namespace: str) -> list[DeploymentInfo]:
        if namespace != self.scenario.namespace:
            return []
        return [self.get_deployment(namespace, name) for name in self._deployments]

    def scale(self, namespace: str, name: str, replicas: int, *, dry_run: bool = False) -> int:
        dep = self._find(namespace, name)
        if not dry_run:
            dep.replica_changes.append((self.clock.now(), replicas))
        return replicas

    def restart(
        self, namespace: str, name: str, *, restarted_at: str, dry_run: bool = False
    ) -> None:
        dep = self._find(namespace, name)
        if not dry_run:
            dep.restarts.append(self.clock.now())
            dep.restarted_at = restarted_at

    def rollback(self, namespace: str, name: str, *, dry_run: bool = False) -> RollbackPlan:
        dep = self._find(namespace, name)
        older = [r.number for r in dep.revisions if r.number < dep.revision]
        if not older:
            raise InvalidRequestError(f"deployment {name} has no earlier revision to roll back to")
        previous = dep.get(max(older))
        assert previous is not None
        plan = RollbackPlan(
            dep.revision,
            previous.number,
            (dep.image_of(dep.revision),),
            (previous.image,),
            dep.template(previous.number),
        )
        if not dry_run:
            # Like the deployment controller: the old template comes back as a new revision.
            dep.revisions.remove(previous)
            new = dep.release(self.clock.now(), previous)
            plan = replace(plan, to_revision=new.number)
        return plan

    def recent_rollouts(self, namespace: str, name: str, limit: int = 5) -> list[Rollout]:
        dep = self._find(namespace, name)
        newest = sorted(dep.revisions, key=lambda r: r.number, reverse=True)[:limit]
        return [
            Rollout(
                revision=r.number,
                created_at=datetime.fromtimestamp(r.created, UTC).isoformat(timespec="seconds"),
                images=(r.image,),
                replicas=dep.replicas if r.number == dep.revision else 0,
                change_cause=r.change_cause,
                labels=dict(r.labels),
                annotations=dict(r.annotations),
            )
            for r in newest
        ]

    def recent_events(
        self, namespace: str, name: str, since: float, limit: int = 50
    ) -> list[ClusterEvent]:
        """The Events the service's condition implies since ``since``, as the kubelet would
        record them, one per pod and kind per ``EVENT_BUCKET`` seconds with its count: OOMKilled
        while pods run out of memory, BackOff while they restart, Evicted while the node's disk
        is full. A service without pod-level faults (the demo's shop) has none."""
        dep = self._find(namespace, name)
        now = self.clock.now()
        if not dep.profile.extended or since >= now:
            return []
        ts = np.arange(max(since, now - 6 * 3600.0), now, STEP, dtype=np.float64)
        state, cond = self._model(dep, ts, jitter=False)
        signs = {
            "OOMKilled": cond["oom"] > 0.05,
            "BackOff": state["pod_restarts_per_min"] > 0.2,
            "Evicted": cond["disk"] > 0.97,
        }
        events: list[ClusterEvent] = []
        for reason, on in signs.items():
            for bucket in sorted({int(t // EVENT_BUCKET) for t in ts[on]}):
                inside = on & (ts // EVENT_BUCKET == bucket)
                count = int(inside.sum())
                pod = _pod_name(name, bucket % max(dep.replicas, 1))
                events.append(
                    ClusterEvent(
                        at=float(ts[inside].max()),
                        reason=reason,
                        message=SIM_EVENT_TEXT[reason].format(container=name, pod=pod),
                        kind="Pod",
                        name=pod,
                        type="Warning",
                        count=count,
                    )
                )
        events.sort(key=lambda e: e.at)
        return events[-limit:] if limit > 0 else []

    def pod_restarts(self, namespace: str, name: str) -> list[PodRestarts]:
        """Restarts over the last hour, spread over the pods, with the last termination's reason:
        OOMKilled (exit 137) while memory is at the limit, Error (exit 2) for a crash."""
        dep = self._find(namespace, name)
        total, reason, code = 0, None, None
        if dep.profile.extended:
            now = self.clock.now()
            ts = np.arange(now - 3600.0, now, STEP, dtype=np.float64)
            state, cond = self._model(dep, ts, jitter=False)
            total = int(state["pod_restarts_per_min"].sum() * STEP / 60.0)
            if total:
                recent = cond["oom"][-40:].max() > 0
                reason, code = ("OOMKilled", 137) if recent else ("Error", 2)
        pods = max(dep.replicas, 1)
        counts = [total // pods + (i < total % pods) for i in range(dep.replicas)]
        return [
            PodRestarts(
                pod=_pod_name(name, i),
                container=name,
                restarts=count,
                last_reason=reason if count else None,
                last_exit_code=code if count else None,
            )
            for i, count in enumerate(counts)
        ]

    # --- cache backend ---------------------------------------------------------------------------
    def purge(self, pattern: str, *, dry_run: bool = False) -> PurgeResult:
        now = np.array([self.clock.now()])
        keys = freed = 0
        for name, dep in self._deployments.items():
            if not fnmatch.fnmatchcase(f"{name}:recs:u-00001", pattern):
                continue
            size = float(self._cache(dep, now)[0])
            entry = dep.profile.payload_bytes * float(self._driver(dep, "payload", now)[0]) * 8
            keys += int(size * (1 - PURGE_REMAINDER) / entry)
            freed += int(size * (1 - PURGE_REMAINDER))
            if not dry_run:
                dep.purges.append(float(now[0]))
        return PurgeResult(keys, freed)

    # --- silence backend -------------------------------------------------------------------------
    def silence(self, request: SilenceRequest, *, dry_run: bool = False) -> str:
        if dry_run:
            return ""
        silence_id = f"sim-silence-{len(self.silences) + 1}"
        self.silences.append((silence_id, request))
        return silence_id

    def find(self, text: str) -> str | None:
        return next((sid for sid, request in self.silences if text in request.comment), None)

    # --- observability ---------------------------------------------------------------------------
    def metrics(
        self, namespace: str, name: str, start: float, end: float, step: float = STEP
    ) -> list[SimSeries]:
        """Samples every ``step`` seconds (a scrape every STEP, by default) in
        [start, min(end, now))."""
        dep = self._find(namespace, name)
        first = math.ceil(start / step) * step
        ts = np.arange(first, min(end, self.clock.now() + 1e-9), step, dtype=np.float64)
        state = self._state(dep, ts, jitter=True)
        labels = {"region": self.scenario.region}
        return [SimSeries(metric, dict(labels), ts, values) for metric, values in state.items()]

    def logs(self, namespace: str, name: str, start: float, end: float) -> list[SimLogLine]:
        """Log lines of all pods in [start, min(end, now)), drawn per minute from the scenario's
        patterns with weights that follow the service's condition."""
        dep = self._find(namespace, name)
        profile = dep.profile
        end = min(end, self.clock.now())
        lines: list[SimLogLine] = []
        minutes = range(math.floor(start / 60), math.ceil(end / 60))
        if not minutes:
            return lines
        # every minute's condition at once (the model is elementwise in time): one call per
        # read, not one per minute, which was most of a two-hour read
        mids = np.array([minute * 60.0 + 30.0 for minute in minutes])
        arrays, extended = self._model(dep, mids, jitter=False)
        ready = self._ready_replicas(dep, mids)
        for i, minute in enumerate(minutes):
            t0 = minute * 60.0
            state = {k: float(v[i]) for k, v in arrays.items()}
            cond = {
                "u": state["cpu_utilization_pct"] / 100.0,
                "payload": state["request_payload_bytes"] / profile.payload_bytes,
                "cache": state["cache_memory_bytes"] / profile.cache_limit_bytes,
            }
            cond.update({k: float(v[i]) for k, v in extended.items()})
            weights = np.array([max(0.0, p.weight(cond)) for p in profile.logs])
            weights /= weights.sum()
            rng = np.random.default_rng(zlib.crc32(f"{profile.name}/{minute}".encode()))
            replicas = max(1, int(ready[i]))
            picks = rng.choice(len(weights), size=profile.log_lines_per_minute, p=weights)
            offsets = np.sort(rng.uniform(0, 60, size=profile.log_lines_per_minute))
            for idx, offset in zip(picks, offsets, strict=True):
                t = t0 + float(offset)
                if not start <= t < end:
                    continue
                pattern = profile.logs[idx]
                pod = _pod_name(profile.name, int(rng.integers(replicas)))
                values = _fields(rng, state, cond)
                if profile.extended:
                    values.update(_extended_fields(rng, state, cond, dep))
                message = pattern.template.format(**values)
                lines.append(SimLogLine(t, pattern.level, pod, message))
        return lines

    def feature_histograms(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> FeatureWindow:
        """The live inputs and predictions of the model ``service`` serves over [start,
        min(end, now)), on the training profiles' bins (``detectors.features.FeatureSource``);
        empty for a service that serves none."""
        self._find(namespace, service)
        model = self.shop_model
        if model is None or model.service != service:
            return FeatureWindow()
        return model.window(start, min(end, self.clock.now()))

    # --- the model -------------------------------------------------------------------------------
    def _find(self, namespace: str, name: str) -> _Deployment:
        if namespace != self.scenario.namespace:
            raise TargetNotFoundError(
                f"no namespace {namespace!r} in the simulated cluster "
                f"(it has {self.scenario.namespace!r})"
            )
        dep = self._deployments.get(name)
        if dep is None:
            known = ", ".join(sorted(self._deployments))
            raise TargetNotFoundError(
                f"no deployment {name!r} in namespace {namespace!r} (known: {known})"
            )
        return dep

    def _driver(self, dep: _Deployment, driver: str, ts: FloatArray) -> FloatArray:
        factor = np.ones_like(ts)
        for surge in self.scenario.surges:
            if surge.service == dep.profile.name and surge.driver == driver:
                factor *= np.where(ts >= self.anchor + surge.offset, surge.factor, 1.0)
        return factor

    def _ready_replicas(self, dep: _Deployment, ts: FloatArray) -> FloatArray:
        ready = np.full_like(ts, float(dep.replica_changes[0][1]))
        previous = dep.replica_changes[0][1]
        for when, replicas in dep.replica_changes[1:]:
            effective = when + (READY_DELAY if replicas > previous else 0.0)
            ready = np.where(ts >= effective, float(replicas), ready)
            previous = replicas
        return ready

    def _cache(self, dep: _Deployment, ts: FloatArray) -> FloatArray:
        """Cache size: follows the entry size (payload) with a short lag; a purge empties it and
        it refills slowly from there."""
        profile = dep.profile
        events = sorted(
            [
                (self.anchor + s.offset, "surge")
                for s in self.scenario.surges
                if s.service == profile.name and s.driver == "payload"
            ]
            + [(p, "purge") for p in dep.purges]
        )
        value = np.full_like(ts, profile.cache_bytes)
        level, since, target, tau = profile.cache_bytes, -math.inf, profile.cache_bytes, 1.0
        for when, kind in events:
            at = (
                level
                if since == -math.inf
                else target + (level - target) * math.exp(-(when - since) / tau)
            )
            level, since = (at * PURGE_REMAINDER, when) if kind == "purge" else (at, when)
            target = profile.cache_bytes * float(self._driver(dep, "payload", np.array([when]))[0])
            tau = CACHE_WARMUP_TAU if kind == "purge" else CACHE_FILL_TAU
            after = ts >= when
            decay = np.exp(-np.maximum(ts - when, 0.0) / tau)  # no overflow before ``when``
            value = np.where(after, target + (level - target) * decay, value)
        return value

    def _state(self, dep: _Deployment, ts: FloatArray, *, jitter: bool) -> dict[str, FloatArray]:
        return self._model(dep, ts, jitter=jitter)[0]

    def _model(
        self, dep: _Deployment, ts: FloatArray, *, jitter: bool, callers: tuple[str, ...] = ()
    ) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
        """The metrics at each time, and the conditions the log patterns react to. A service
        whose dependency is simulated too sees that service's latency and errors (``callers``:
        the services on the way here, so a cycle of calls ends)."""
        p = dep.profile

        def noise(metric: str, amplitude: float) -> FloatArray:
            if not jitter:
                return np.ones_like(ts)
            return 1.0 + amplitude * _noise(f"{p.name}/{metric}", ts)

        rate = p.request_rate * (1 + 0.05 * np.sin(2 * np.pi * ts / 3600.0))
        rate = rate * self._driver(dep, "rate", ts) * noise("rate", 0.03)
        payload = p.payload_bytes * self._driver(dep, "payload", ts) * noise("payload", 0.04)
        replicas = np.maximum(self._ready_replicas(dep, ts), 1.0)
        pressure = self._pressure(dep, ts, rate, callers) if p.extended else None
        # The plain profiles (the demo) multiply by one and add zero: exactly the original model.
        work, serving, slow, extra, more_errors = (
            (pressure.work, pressure.serving, pressure.slow, pressure.extra_ms, pressure.errors)
            if pressure
            else (1.0, 1.0, 1.0, 0.0, 0.0)
        )
        utilisation = rate * payload * work / (replicas * p.replica_capacity * serving)
        cache = self._cache(dep, ts) * noise("cache", 0.01)
        gc_penalty = 1.0 + 2.0 * np.clip(cache / p.cache_limit_bytes - 0.7, 0.0, None)
        busy = np.minimum(utilisation, 0.9)
        latency = p.base_latency_ms * (1 + 0.1 * (busy / (1 - busy)) ** 2) * gc_penalty
        latency = latency * slow + extra
        if self.shop_model is not None and self.shop_model.service == p.name:
            latency = latency + self.shop_model.extra_latency(ts)  # a slower model serving
        errors = 0.002 + 0.3 * np.clip(utilisation - 0.85, 0.0, None) + more_errors
        state = {
            "latency_p95_ms": latency * noise("latency", 0.04),
            "request_rate": rate,
            "request_payload_bytes": payload,
            "cpu_utilization_pct": np.minimum(utilisation, 1.0) * 100 * noise("cpu", 0.03),
            "cache_memory_bytes": cache,
            "error_ratio": errors * noise("errors", 0.1),
        }
        if pressure is None:
            return state, {}
        mem, gc, oom = faults.memory(p, pressure, utilisation, latency / p.base_latency_ms)
        latency = latency * gc * (1 + oom)
        errors = errors + 0.12 * oom
        state["latency_p95_ms"] = latency * noise("latency", 0.04)
        state["error_ratio"] = errors * noise("errors", 0.1)
        state["memory_working_set_ratio"] = mem * noise("memory", 0.02)
        extended = dict(pressure.metrics)
        extended["pod_restarts_per_min"] = extended["pod_restarts_per_min"] + 0.5 * oom * replicas
        for metric, values in extended.items():
            state[metric] = values * noise(metric, EXTENDED_NOISE.get(metric, 0.03))
        model = self.shop_model
        if model is not None and model.service == p.name and "click_through_rate" in state:
            state["click_through_rate"] = state["click_through_rate"] * model.quality(ts)
        cond = dict(pressure.cond)
        cond["lat"] = latency / p.base_latency_ms
        return state, cond

    def _dependency(
        self, dep: _Deployment, ts: FloatArray, callers: tuple[str, ...]
    ) -> tuple[FloatArray, FloatArray] | None:
        """The p95 latency and error ratio of the simulated service ``dep`` calls, if any."""
        callee = self._deployments.get(dep.profile.dependency)
        if callee is None or callee.profile.name in (*callers, dep.profile.name):
            return None
        state, _ = self._model(callee, ts, jitter=False, callers=(*callers, dep.profile.name))
        return state["latency_p95_ms"], state["error_ratio"]

    def _pressure(
        self, dep: _Deployment, ts: FloatArray, rate: FloatArray, callers: tuple[str, ...]
    ) -> faults.Pressure:
        p = dep.profile
        history = faults.History(
            replaced=sorted([*dep.restarts, *(since for since, _ in dep.live[1:])]),
            live=dep.live,
            purges=dep.purges,
            ready=lambda t: self._ready_replicas(dep, t),
        )
        mine = [f for f in self.scenario.faults if f.service == p.name]
        hit = np.full_like(ts, p.hit_ratio)
        if p.hit_ratio:
            resets = [(self.anchor + f.offset, f.size) for f in mine if f.kind == "stampede"]
            resets += [(t, faults.PURGED_HIT_RATIO) for t in dep.purges]
            changes = [t + READY_DELAY for t, _ in dep.replica_changes[1:]]

            def utilisation_at(t: float, hit_ratio: float) -> float:
                at = np.array([t])
                demand = p.request_rate * float(self._driver(dep, "rate", at)[0])
                demand *= p.payload_bytes * float(self._driver(dep, "payload", at)[0])
                work = float(faults.miss_work(p, np.array([hit_ratio]))[0])
                return demand * work / (float(history.ready(at)[0]) * p.replica_capacity)

            hit = faults.hit_ratio(p, resets, history, changes, utilisation_at, ts)
        dependency = self._dependency(dep, ts, callers)
        return faults.pressure(p, mine, self.anchor, history, ts, hit, rate, dependency)


def _pod_name(service: str, index: int) -> str:
    """A stable, Kubernetes-looking pod name for replica ``index``."""
    return f"{service}-6f7c9d8b5-{zlib.crc32(f'{service}/{index}'.encode()) % 36**5:05x}"


def _fields(
    rng: np.random.Generator, state: dict[str, float], cond: dict[str, float]
) -> dict[str, str]:
    latency = state["latency_p95_ms"]
    return {
        "n": str(int(rng.integers(5, 60))),
        "uid": f"u-{int(rng.integers(10_000, 99_999))}",
        "ms": str(int(latency * rng.uniform(0.3, 1.0))),
        "ratio": f"{max(0.05, 0.92 - 0.5 * max(0.0, cond['cache'] - 0.7)):.2f}",
        "bytes": str(int(state["request_payload_bytes"] * rng.uniform(0.8, 1.3))),
        "pct": str(round(cond["cache"] * 100)),
        "evict": str(int(rng.integers(200, 5000))),
        "order": f"{int(rng.integers(16**7, 16**8)):08x}",
        "amount": f"{rng.uniform(5, 400):.2f}",
    }


def _extended_fields(
    rng: np.random.Generator, state: dict[str, float], cond: dict[str, float], dep: _Deployment
) -> dict[str, str]:
    live = dep.get(dep.revision)
    return {
        "up_ms": str(int(state.get("upstream_latency_ms", 0.0) * rng.uniform(0.8, 1.2))),
        "mem_pct": str(round(100 * cond.get("mem", 0.0))),
        "gc_ms": str(int(rng.uniform(150, 900))),
        "drift_pct": str(round(100 * min(1.0, cond.get("drift", 0.0) * rng.uniform(0.6, 0.9)))),
        "model": (live.labels.get("model-version", "unknown") if live else "unknown"),
        "disk_pct": str(round(100 * cond.get("disk", 0.0))),
    }
