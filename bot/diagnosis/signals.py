"""What findings and causes are called: the diagnosis, the planners, the thread and the terminal
say "p95 latency up 12.3x (173 ms -> 2.1 s)" through this module. The meanings themselves (which
metrics are symptoms, drivers or resources, which cause an abnormal one points to, which log
messages name a cause) are data in ``knowledge/vocabulary.yaml``; the detectors only know numbers
and templates."""

from __future__ import annotations

from bot import messages
from detectors import Direction, Finding, FindingKind
from knowledge import Vocabulary


class Glossary(Vocabulary):
    """The vocabulary (signals, causes, log signatures) and the words for a finding: its name,
    its change, what explains it, its outlook."""

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
