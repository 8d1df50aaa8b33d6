"""Scenario definitions: the services of the simulated shop and what goes wrong with them.

The demo scenario (``input-size-surge``) uses the plain service profiles. The other scenarios use
the same services with the metrics a real deployment also exports (memory, restarts, throttling,
disk, connection pool, dependency latency, model quality) and play one failure each: a surge of
load, a release whose new revision misbehaves, or a fault such as a memory leak or an expired
certificate. Each names the remediation that fixes it and a wrong one that is tempting to pick
(``tools/sim/faults.py`` models how every action plays out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

# A log pattern's weight as a function of the service's condition at that minute:
# u (CPU utilisation, 1.0 = saturated), payload (factor vs normal), cache (fraction of limit); with
# the extended metrics also mem (memory / limit), disk (usage / capacity), miss (cache miss ratio),
# upstream (dependency latency factor), pool (pool demand / size), crash, tls, drift and slow
# (share of requests affected by a release's crash, expired certificate, model drift or extra
# latency).
Weight = Callable[[dict[str, float]], float]


@dataclass(frozen=True)
class LogPattern:
    level: str
    template: str
    weight: Weight


@dataclass(frozen=True)
class ServiceProfile:
    """The normal behaviour of one service; replica_capacity is payload bytes/s per replica."""

    name: str
    replicas: int
    request_rate: float
    payload_bytes: float
    replica_capacity: float
    base_latency_ms: float
    cache_bytes: float
    cache_limit_bytes: float
    log_lines_per_minute: int
    logs: tuple[LogPattern, ...]
    # The extended metric set (see the module docstring); off for the demo's plain profiles.
    extended: bool = False
    memory_base: float = 0.45  # working set / memory limit at rest
    memory_per_load: float = 0.2  # extra working set per unit of utilisation (in-flight requests)
    # The upstream the service calls on every request, if any. When it names another service of
    # the scenario, its latency and errors are that service's own (a victim follows its origin).
    dependency: str = ""
    dependency_latency_ms: float = 40.0
    pool_size: int = 0  # database connections per pod; 0 = no database
    pool_hold_seconds: float = 1.5  # how long a request holds a connection
    hit_ratio: float = 0.0  # cache hit ratio at rest; 0 = no cache metrics
    ctr: float = 0.0  # click-through rate at rest; 0 = not an ML service
    template_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Surge:
    """A driver of ``service`` multiplied by ``factor`` from ``offset`` seconds after the start."""

    service: str
    driver: Literal["payload", "rate"]
    factor: float
    offset: float


@dataclass(frozen=True)
class Effects:
    """How a revision behaves differently from the one before it (all neutral by default)."""

    crash: float = 0.0  # share of requests that hit a crashing pod
    extra_latency_ms: float = 0.0  # added to every request (e.g. a new synchronous call)
    cpu_cost: float = 1.0  # CPU work per request, relative
    pool_size: int | None = None  # database pool per pod set by this revision's config
    drift: float = 0.0  # how far live inputs are from this model's training data (PSI)


@dataclass(frozen=True)
class Release:
    """A rollout ``offset`` seconds after the start: a new revision of ``service``'s template."""

    service: str
    offset: float
    image: str | None = None  # None: same image (a config or model change)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    change_cause: str = ""
    effects: Effects = field(default_factory=Effects)


FaultKind = Literal[
    "leak",
    "noisy_neighbour",
    "stampede",
    "disk_fill",
    "cert_expiry",
    "slow_dependency",
    "network_delay",
]


@dataclass(frozen=True)
class Fault:
    """Something going wrong ``offset`` seconds after the start that is not a release.

    leak: working set grows by ``size`` of the limit per hour in pods running since the onset.
    noisy_neighbour: ``size`` pods share a node with a CPU-hungry batch job. stampede: cached
    entries expire at once, leaving a hit ratio of ``size``. disk_fill: scratch files fill ``size``
    of the disk per hour. cert_expiry: the client certificate loaded at start-up expires (a renewed
    one is already in the Secret). slow_dependency: the dependency answers ``size`` times slower.
    network_delay: every response from the pods running at the onset leaves ``size`` ms late (a
    chaos tool's netem delay on their interfaces; pods started later are not affected).
    """

    kind: FaultKind
    service: str
    offset: float
    size: float = 1.0


@dataclass(frozen=True)
class Expectation:
    """What an experienced engineer would conclude: accepted cause keys (a change and the
    mechanism it set off are both right), the tool that fixes it on the alerted service (None:
    nothing on this service fixes it), tools needed alongside it, and a tool that looks right but
    does not help."""

    causes: tuple[str, ...]
    fix: str | None
    tempting: str
    also: tuple[str, ...] = ()
    # Where the fault started, when not the alerted service: the fix (and ``also``) acts there,
    # the tempting remedy on the alerted service.
    origin: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    namespace: str
    region: str
    services: tuple[ServiceProfile, ...]
    surges: tuple[Surge, ...]
    alert_labels: dict[str, str]
    alert_annotations: dict[str, str]
    alert_offset: float
    extra: dict[str, Any] = field(default_factory=dict)
    releases: tuple[Release, ...] = ()
    faults: tuple[Fault, ...] = ()
    expected: Expectation | None = None

    @property
    def service(self) -> str:
        """The alerted service."""
        return self.alert_labels["service"]

    @property
    def origin(self) -> str:
        """The service where the fault started: the alerted one unless it is a victim."""
        return (self.expected.origin if self.expected else None) or self.service


def const(value: float) -> Weight:
    return lambda _c: value


def above(key: str, threshold: float, scale: float) -> Weight:
    return lambda c: max(0.0, c[key] - threshold) * scale


GiB = 2**30

RECOMMENDER = ServiceProfile(
    name="recommender",
    replicas=3,
    request_rate=120.0,
    payload_bytes=2100.0,
    replica_capacity=280_000.0,
    base_latency_ms=170.0,
    cache_bytes=1.2 * GiB,
    cache_limit_bytes=4.0 * GiB,
    log_lines_per_minute=40,
    logs=(
        LogPattern("INFO", "Served {n} recommendations to user {uid} in {ms} ms", const(0.8)),
        LogPattern("INFO", "Cache hit ratio {ratio} over the last 60s", const(0.05)),
        LogPattern(
            "INFO",
            "Refreshed candidate pool: {n} items from feature-store in {ms} ms",
            const(0.05),
        ),
        LogPattern(
            "WARN",
            "Request payload {bytes} bytes exceeds soft limit 4096 bytes for user {uid}",
            above("payload", 1.5, 0.4),
        ),
        LogPattern(
            "WARN",
            "Cache memory at {pct}% of limit, evicting {evict} entries",
            above("cache", 0.75, 1.0),
        ),
        LogPattern(
            "WARN", "Slow request: scoring {n} candidates took {ms} ms", above("u", 0.7, 1.0)
        ),
        LogPattern(
            "ERROR",
            "Timed out after 2000 ms waiting for a scoring worker (queue depth {n})",
            above("u", 0.85, 2.0),
        ),
    ),
)

CHECKOUT = ServiceProfile(
    name="checkout",
    replicas=4,
    request_rate=35.0,
    payload_bytes=900.0,
    replica_capacity=40_000.0,
    base_latency_ms=240.0,
    cache_bytes=0.3 * GiB,
    cache_limit_bytes=2.0 * GiB,
    log_lines_per_minute=20,
    logs=(
        LogPattern("INFO", "Order {order} placed: {n} items, total {amount} EUR", const(0.6)),
        LogPattern("INFO", "Payment authorised for order {order} in {ms} ms", const(0.35)),
        LogPattern("WARN", "Retrying payment provider call for order {order}", const(0.05)),
    ),
)

FRONTEND = ServiceProfile(
    name="frontend",
    replicas=6,
    request_rate=400.0,
    payload_bytes=600.0,
    replica_capacity=150_000.0,
    base_latency_ms=90.0,
    cache_bytes=0.5 * GiB,
    cache_limit_bytes=3.0 * GiB,
    log_lines_per_minute=30,
    logs=(
        LogPattern("INFO", "GET /product/{order} 200 {ms}ms", const(0.7)),
        LogPattern("INFO", "GET /cart 200 {ms}ms", const(0.25)),
        LogPattern("WARN", "Recommendations unavailable, rendering fallback carousel", const(0.05)),
    ),
)

INPUT_SIZE_SURGE = Scenario(
    name="input-size-surge",
    description=(
        "Global e-commerce platform: recommender in eu-west-1 shows a p95 latency spike. A "
        "client release started sending full browsing histories, tripling request payloads; "
        "scoring saturates the replicas and the recommendation cache bloats with oversized "
        "entries."
    ),
    namespace="shop",
    region="eu-west-1",
    services=(RECOMMENDER, CHECKOUT, FRONTEND),
    surges=(Surge("recommender", "payload", 3.0, -20 * 60.0),),
    alert_labels={
        "alertname": "RecommenderLatencyHigh",
        "service": "recommender",
        "namespace": "shop",
        "region": "eu-west-1",
        "severity": "page",
    },
    alert_annotations={
        "summary": "recommender p95 latency above 500 ms in eu-west-1",
        "description": "p95 latency of recommender has been above 500 ms for 5 minutes.",
        "runbook_url": "https://runbooks.example.com/recommender/latency",
    },
    alert_offset=-16 * 60.0,
    expected=Expectation(
        causes=("input-size-surge",), fix="scale", tempting="restart", also=("purge_cache",)
    ),
)
