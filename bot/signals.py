"""What metrics mean: which are symptoms, which are drivers of load, which are resources, and which
cause an abnormal one points to. The detectors only know numbers; this catalog lets the diagnosis
and the runbooks speak about them."""

from __future__ import annotations

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


class Cause(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    title: str
    description: str


DEFAULT_SIGNALS: tuple[Signal, ...] = (
    Signal(metric="latency_p95_ms", description="p95 latency", kind="symptom", unit="ms"),
    Signal(metric="error_ratio", description="error ratio", kind="symptom", unit="ratio"),
    Signal(
        metric="request_payload_bytes",
        description="request payload size",
        kind="driver",
        unit="bytes",
        cause="input-size-surge",
    ),
    Signal(
        metric="request_rate",
        description="request rate",
        kind="driver",
        unit="rps",
        cause="traffic-surge",
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
    ),
)


class SignalCatalog:
    def __init__(
        self,
        signals: tuple[Signal, ...] = DEFAULT_SIGNALS,
        causes: tuple[Cause, ...] = DEFAULT_CAUSES,
    ) -> None:
        self._signals = {s.metric: s for s in signals}
        self._causes = {c.key: c for c in causes}

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
