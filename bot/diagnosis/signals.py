"""What metrics and log lines mean: which metrics are symptoms, which are drivers of load, which
are resources, and which cause an abnormal one points to; which well-known log messages name a
cause outright (an expired certificate, a full disk). The detectors only know numbers and
templates; this catalog lets the diagnosis and the runbooks speak about them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot import messages
from detectors import Direction, Finding, FindingKind


class Signal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: str
    description: str
    kind: Literal["symptom", "driver", "resource"]
    unit: Literal["ms", "bytes", "pct", "rps", "ratio", "count"]
    bad_direction: Direction = Direction.UP
    cause: str | None = None
    load: bool = False  # more work asked of the service (it explains changes that follow it)


class Cause(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    title: str
    description: str
    aliases: tuple[str, ...] = ()  # what people call it ("db pool"), for corrections


class LogSignature(BaseModel):
    """A message that names its cause whatever the service: 'x509: certificate has expired'."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cause: str
    pattern: str  # a case-insensitive regular expression over the template text

    def matches(self, template: str) -> bool:
        return re.search(self.pattern, template, re.IGNORECASE) is not None


DEFAULT_SIGNALS: tuple[Signal, ...] = (
    Signal(metric="latency_p95_ms", description="p95 latency", kind="symptom", unit="ms"),
    Signal(metric="error_ratio", description="error ratio", kind="symptom", unit="ratio"),
    Signal(
        metric="request_payload_bytes",
        description="request payload size",
        kind="driver",
        unit="bytes",
        cause="input-size-surge",
        load=True,
    ),
    Signal(
        metric="request_rate",
        description="request rate",
        kind="driver",
        unit="rps",
        cause="traffic-surge",
        load=True,
    ),
    Signal(
        metric="cpu_utilization_pct",
        description="CPU utilization",
        kind="resource",
        unit="pct",
        cause="cpu-saturation",
    ),
    Signal(
        metric="cache_memory_bytes",
        description="cache memory",
        kind="resource",
        unit="bytes",
        cause="cache-bloat",
    ),
    Signal(
        metric="click_through_rate",
        description="click-through rate",
        kind="symptom",
        unit="ratio",
        bad_direction=Direction.DOWN,
    ),
    Signal(
        metric="pod_restarts_per_min",
        description="container restarts",
        kind="symptom",
        unit="count",
    ),
    Signal(
        metric="upstream_error_ratio",
        description="errors calling the dependency",
        kind="symptom",
        unit="ratio",
    ),
    Signal(
        metric="db_pool_wait_ms",
        description="wait for a database connection",
        kind="symptom",
        unit="ms",
    ),
    Signal(
        metric="memory_working_set_ratio",
        description="memory (of the limit)",
        kind="resource",
        unit="ratio",
        cause="memory-leak",
    ),
    Signal(
        metric="cpu_throttled_ratio",
        description="CPU throttling",
        kind="resource",
        unit="ratio",
        cause="cpu-limit",
    ),
    Signal(
        metric="node_cpu_utilization_pct",
        description="CPU of the pods' nodes",
        kind="driver",
        unit="pct",
        cause="noisy-neighbour",
    ),
    Signal(
        metric="disk_usage_ratio",
        description="disk usage",
        kind="resource",
        unit="ratio",
        cause="disk-full",
    ),
    Signal(
        metric="db_pool_in_use_ratio",
        description="database pool in use",
        kind="resource",
        unit="ratio",
        cause="connection-pool-exhaustion",
    ),
    Signal(
        metric="upstream_latency_ms",
        description="dependency latency",
        kind="driver",
        unit="ms",
        cause="dependency-timeout",
    ),
    Signal(
        metric="cache_hit_ratio",
        description="cache hit ratio",
        kind="driver",
        unit="ratio",
        bad_direction=Direction.DOWN,
        cause="cache-stampede",
    ),
    Signal(
        metric="feature_drift_psi",
        description="model input drift (PSI)",
        kind="driver",
        unit="count",
        cause="model-drift",
    ),
)

DEFAULT_CAUSES: tuple[Cause, ...] = (
    Cause(
        key="input-size-surge",
        title="Input size increase",
        description="requests carry much larger payloads than usual, so each one costs more work",
    ),
    Cause(
        key="traffic-surge",
        title="Traffic surge",
        description="more requests per second than the service is provisioned for",
    ),
    Cause(
        key="cpu-saturation",
        title="CPU saturation",
        description="the replicas are out of CPU and requests queue",
    ),
    Cause(
        key="cache-bloat",
        title="Cache bloat",
        description="cache memory filled with oversized or stale entries, causing evictions",
        aliases=("cache memory", "oversized cache entries"),
    ),
    Cause(
        key="cache-stampede",
        title="Cache stampede",
        description="many cache entries expired at once and every miss recomputes the value",
        aliases=("thundering herd", "cache miss storm", "cold cache"),
    ),
    Cause(
        key="bad-rollout",
        title="Bad rollout",
        description="a new release of the service misbehaves",
        aliases=("bad deploy", "bad release", "the deploy", "the release", "new version"),
    ),
    Cause(
        key="config-change",
        title="Config change",
        description="a configuration change of the service took effect just before the symptoms",
        aliases=("config", "configuration", "configmap", "feature flag"),
    ),
    Cause(
        key="model-change",
        title="Model change",
        description="a new model version went live just before the symptoms",
        aliases=("new model", "model version", "retrain", "model rollout"),
    ),
    Cause(
        key="model-drift",
        title="Model input drift",
        description="live inputs no longer look like the data the model was trained on",
        aliases=("drift", "data drift", "feature drift", "training range"),
    ),
    Cause(
        key="memory-leak",
        title="Memory leak",
        description="memory grows without a matching rise in load until pods hit their limit",
        aliases=("leak", "heap growth", "memory growth"),
    ),
    Cause(
        key="memory-limit",
        title="Memory limit too low",
        description="the pods need more memory than their limit and are OOM-killed",
        aliases=("oom", "oomkilled", "out of memory", "memory limit"),
    ),
    Cause(
        key="cpu-limit",
        title="CPU limit too low",
        description="the containers hit their CPU limit and are throttled",
        aliases=("cpu limit", "throttling", "cpu throttling"),
    ),
    Cause(
        key="noisy-neighbour",
        title="Noisy neighbour",
        description="another workload on the same node takes its CPU",
        aliases=("noisy neighbor", "node contention", "busy node", "batch job on the node"),
    ),
    Cause(
        key="disk-full",
        title="Disk full",
        description="a disk of the pods is full, so writes fail",
        aliases=("disk", "no space left", "ephemeral storage", "volume full"),
    ),
    Cause(
        key="connection-pool-exhaustion",
        title="Connection pool exhaustion",
        description="every database connection of the pool is busy and requests wait for one",
        aliases=("db pool", "database pool", "connection pool", "database connections", "pool"),
    ),
    Cause(
        key="dependency-timeout",
        title="Slow dependency",
        description="a service this one calls answers slowly or times out",
        aliases=("dependency", "upstream", "downstream service", "third party", "provider"),
    ),
    Cause(
        key="cert-expiry",
        title="Certificate expired",
        description="a TLS certificate in use has expired, so connections fail",
        aliases=("certificate", "cert", "tls", "x509", "ssl"),
    ),
    Cause(
        key="crash-loop",
        title="Application crash",
        description="the process crashes on some requests and its containers restart",
        aliases=("crash", "panic", "segfault", "crash loop", "crashloop"),
    ),
    Cause(
        key="dns-failure",
        title="DNS failure",
        description="name lookups fail, so connections to other services cannot be made",
        aliases=("dns", "name resolution", "coredns"),
    ),
    Cause(
        key="slow-query",
        title="Slow database query",
        description="a database query became slow, for example after an index was dropped",
        aliases=("slow query", "missing index", "database"),
    ),
)

# Log messages that name their cause in any service. Deliberately narrow: a pattern must not fire
# on the ordinary warnings of a healthy service (e.g. a queue wait is not a dependency timeout).
DEFAULT_LOG_SIGNATURES: tuple[LogSignature, ...] = (
    LogSignature(
        cause="cert-expiry",
        pattern=r"x509:.*(expired|not yet valid)|certificate (has )?expired|"
        r"certificate verify failed|CERTIFICATE_VERIFY_FAILED",
    ),
    LogSignature(cause="disk-full", pattern=r"no space left on device|ENOSPC|disk quota exceeded"),
    LogSignature(
        cause="connection-pool-exhaustion",
        pattern=r"(acquir|obtain|get)\w* (a )?connection from (the )?pool|connection pool "
        r"(exhausted|timeout)|too many clients|remaining connection slots",
    ),
    LogSignature(
        cause="dependency-timeout",
        pattern=r"(timed out|timeout|deadline exceeded).{0,60}\b(calling|connecting to|"
        r"request to|upstream)\b|\bcall\b.{0,60}\b(timed out|timeout)\b|upstream request timeout",
    ),
    LogSignature(
        cause="dns-failure",
        pattern=r"no such host|NXDOMAIN|temporary failure in name resolution|could not resolve",
    ),
    LogSignature(
        cause="crash-loop",
        pattern=r"\bpanic:|segmentation fault|SIGSEGV|fatal error:|unhandled exception|"
        r"Traceback \(most recent call last\)",
    ),
    LogSignature(
        cause="model-drift",
        pattern=r"(outside|out of) (the )?training (range|distribution)|unseen categor|"
        r"(feature|input|prediction)s? (distribution )?drift",
    ),
)


class SignalCatalog:
    def __init__(
        self,
        signals: tuple[Signal, ...] = DEFAULT_SIGNALS,
        causes: tuple[Cause, ...] = DEFAULT_CAUSES,
        log_signatures: tuple[LogSignature, ...] = DEFAULT_LOG_SIGNATURES,
    ) -> None:
        self._signals = {s.metric: s for s in signals}
        self._causes = {c.key: c for c in causes}
        self.log_signatures = log_signatures

    @property
    def causes(self) -> list[Cause]:
        return list(self._causes.values())

    def causes_named_by(self, template: str) -> list[str]:
        """The causes a log template names outright (usually none)."""
        return list(dict.fromkeys(s.cause for s in self.log_signatures if s.matches(template)))

    def signal(self, metric: str) -> Signal | None:
        return self._signals.get(metric)

    def cause(self, key: str) -> Cause:
        known = self._causes.get(key)
        if known is not None:
            return known
        title = key.replace("-", " ").capitalize()
        return Cause(key=key, title=title, description=title.lower())

    def signal_for_cause(self, key: str) -> Signal | None:
        return next((s for s in self._signals.values() if s.cause == key), None)

    def is_bad(self, finding: Finding) -> bool:
        """True when the finding moves the way that hurts (latency up, not down)."""
        signal = self.signal(finding.metric)
        return signal is None or finding.direction == signal.bad_direction

    def describe(self, finding: Finding) -> str:
        """'p95 latency up 12.3x (173 ms -> 2.1 s)'."""
        signal = self.signal(finding.metric)
        name = signal.description if signal else finding.metric
        unit = signal.unit if signal else "count"
        if finding.direction is Direction.UP:
            change = f"up {finding.magnitude:.1f}x"
        else:
            change = f"down {100 * (1 - finding.magnitude):.0f}%"
        before, after = format_value(finding.baseline, unit), format_value(finding.observed, unit)
        return f"{name} {change} ({before} -> {after})"

    def name(self, finding: Finding) -> str:
        signal = self.signal(finding.metric)
        return signal.description if signal else finding.key

    def attribution_text(self, finding: Finding) -> str:
        """'explained by pod=b 92%, pod=a 8%' (empty when the finding has no breakdowns)."""
        if not finding.attribution:
            return ""
        parts = ", ".join(
            " ".join(f"{k}={v}" for k, v in sorted(c.labels.items())) + f" {100 * c.share:.0f}%"
            for c in finding.attribution[:4]
        )
        return messages.EXPLAINED_BY.format(parts=parts)

    def outlook_text(self, finding: Finding) -> str:
        """A forecast ('reaches its limit in ~25 min') or a drift ('PSI 1.77, KS 0.65')."""
        if finding.kind is FindingKind.FORECAST and finding.forecast is not None:
            signal = self.signal(finding.metric)
            f = finding.forecast
            return messages.FORECAST.format(
                name=self.name(finding),
                limit=format_value(f.threshold, signal.unit if signal else "count"),
                eta=format_duration(f.eta),
                earliest=format_duration(f.earliest),
                latest=format_duration(f.latest),
            )
        return messages.DRIFT.format(
            name=self.name(finding),
            psi=finding.details.get("psi", 0.0),
            ks=finding.details.get("ks", 0.0),
            magnitude=finding.magnitude,
        )

    def symptom_text(self, finding: Finding) -> str:
        """Short form used in incident records: 'p95 latency up 12x'."""
        signal = self.signal(finding.metric)
        name = signal.description if signal else finding.metric
        if finding.direction is Direction.UP:
            return (
                f"{name} up {finding.magnitude:.0f}x"
                if finding.magnitude >= 2
                else (f"{name} up {100 * (finding.magnitude - 1):.0f}%")
            )
        return f"{name} down {100 * (1 - finding.magnitude):.0f}%"


def format_value(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"
    if unit == "bytes":
        for size, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(value) >= size:
                return f"{value / size:.1f} {suffix}"
        return f"{value:.0f} B"
    if unit == "pct":
        return f"{value:.0f}%"
    if unit == "ratio":
        return f"{100 * value:.1f}%"
    if unit == "rps":
        return f"{value:.0f} req/s"
    return f"{value:.3g}"


def format_duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "never"
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
