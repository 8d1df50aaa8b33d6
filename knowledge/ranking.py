"""Root-cause ranking: which component (service) most likely started an incident, with evidence.

Each component gets three pieces of evidence from an incident window against its baseline window:
- error surprise: new or surging warning/error templates (Poisson deviance of the counts against
  the baseline rate),
- log mix shift: how far the component's template proportions moved (a code path that stops
  logging half-way shows up here even when nothing logs an error),
- metric deviation: robust z-scores of its own metrics (median/MAD of the baseline), capped.
When earlier windows of the same components are known (``history``), every piece is measured
against how that component usually looks in such windows (median/MAD over history), so a service
that is always noisy does not win every incident. Ties between close candidates go to the one
that deviated first (anomalies propagate from the cause to its callers).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from knowledge.templates import ERROR_LEVELS

METRIC_Z_CAP = 20.0
METRIC_TOP = 3  # metrics summed per component
OUT_OF_BAND = 3.0  # |z| from which a metric point counts as deviating (for timing, evidence)
SMOOTHING = 0.5
CLOSE = 0.9  # a candidate within 10% of the leader's score counts as tied for the time rule


@dataclass(frozen=True)
class ComponentWindow:
    """One component's logs (template counts) and metrics in the baseline and incident windows."""

    name: str
    baseline_templates: Mapping[str, int]
    current_templates: Mapping[str, int]
    baseline_minutes: float
    current_minutes: float
    metrics: Mapping[str, tuple[Sequence[float], Sequence[tuple[float, float]]]] = field(
        default_factory=dict
    )
    first_seen: Mapping[str, float] = field(default_factory=dict)  # template -> first timestamp


@dataclass(frozen=True)
class Features:
    error_surprise: float
    mix_shift: float
    metric_deviation: float
    first_deviation: float | None
    evidence: tuple[str, ...]
    abnormal_templates: tuple[str, ...]

    def values(self) -> tuple[float, float, float]:
        return self.error_surprise, self.mix_shift, self.metric_deviation


@dataclass(frozen=True)
class RankedCause:
    component: str
    score: float
    evidence: list[str]
    first_deviation: float | None


def _deviance(observed: float, expected: float) -> float:
    """Poisson deviance of one count against its expectation."""
    if observed <= 0:
        return 2.0 * expected
    return 2.0 * (observed * math.log(observed / expected) - (observed - expected))


def features(window: ComponentWindow) -> Features:
    """The three pieces of evidence of one component, with what a responder should read."""
    base, cur = window.baseline_templates, window.current_templates
    templates = set(base) | set(cur)
    scale = max(window.current_minutes, 1e-9) / max(window.baseline_minutes, 1e-9)
    base_total, cur_total = sum(base.values()), sum(cur.values())
    surprise = 0.0
    surging: list[tuple[float, str]] = []
    shift = 0.0
    for template in templates:
        observed = cur.get(template, 0)
        expected = (base.get(template, 0) + SMOOTHING) * scale
        if template.split(" ", 1)[0].upper() in ERROR_LEVELS and observed > expected:
            part = _deviance(observed, expected)
            surprise += part
            surging.append((part, template))
        if base_total and cur_total:
            share = (base.get(template, 0) + SMOOTHING) / (base_total + SMOOTHING * len(templates))
            shift += _deviance(observed, cur_total * share)
    mix_shift = shift
    surging.sort(reverse=True)
    evidence: list[str] = []
    if surging:
        names = "; ".join(t for _, t in surging[:3])
        evidence.append(f"{len(surging)} new or surging error templates: {names}")
    if mix_shift > 0:
        evidence.append(f"log template mix shifted (deviance {mix_shift:.1f})")
    deviations, first = _metric_deviations(window)
    for z, name, _ in [d for d in deviations if d[2] is not None][:METRIC_TOP]:
        evidence.append(f"{name} {z:+.1f} robust z against baseline")
    firsts = [window.first_seen[t] for _, t in surging if t in window.first_seen]
    if first is not None:
        firsts.append(first)
    return Features(
        error_surprise=surprise,
        mix_shift=mix_shift,
        metric_deviation=sum(min(abs(z), METRIC_Z_CAP) for z, _, _ in deviations[:METRIC_TOP]),
        first_deviation=min(firsts) if firsts else None,
        evidence=tuple(evidence),
        abnormal_templates=tuple(t for _, t in surging),
    )


def _metric_deviations(
    window: ComponentWindow,
) -> tuple[list[tuple[float, str, float | None]], float | None]:
    """(z, metric, first timestamp out of band), strongest first; and the earliest such time."""
    out: list[tuple[float, str, float | None]] = []
    for name, (baseline, current) in window.metrics.items():
        if len(baseline) < 3 or not current:
            continue
        median = statistics.median(baseline)
        mad = 1.4826 * statistics.median(abs(v - median) for v in baseline)
        spread = max(mad, 0.5 * statistics.pstdev(baseline), 0.05 * abs(median), 1e-6)
        zs = [((v - median) / spread, ts) for ts, v in current]
        z, _ = max(zs, key=lambda item: abs(item[0]))
        outside = [ts for value, ts in zs if abs(value) >= OUT_OF_BAND]
        out.append((z, name, min(outside) if outside else None))
    out.sort(key=lambda item: -abs(item[0]))
    return out, min((ts for _, _, ts in out if ts is not None), default=None)


def rank(
    current: Mapping[str, Features], history: Sequence[Mapping[str, Features]] = ()
) -> list[RankedCause]:
    """Components by evidence, strongest first. ``history``: the same components' features in
    other windows, the yardstick of what is usual for each."""
    scores: dict[str, float] = {}
    for name, found in current.items():
        past = [h[name].values() for h in history if name in h]
        scores[name] = sum(
            _normalised(value, [p[i] for p in past], [c.values()[i] for c in current.values()])
            for i, value in enumerate(found.values())
        )
    order = sorted(scores, key=lambda n: -scores[n])
    order = _earliest_first(order, scores, current)
    return [
        RankedCause(
            component=name,
            score=round(scores[name], 4),
            evidence=list(current[name].evidence),
            first_deviation=current[name].first_deviation,
        )
        for name in order
    ]


def _normalised(value: float, past: list[float], peers: list[float]) -> float:
    """How unusual ``value`` is: robust z against the component's own history when there is
    one, else its share of the largest value among the components."""
    if len(past) >= 3:
        median = statistics.median(past)
        mad = 1.4826 * statistics.median(abs(p - median) for p in past)
        return max(0.0, (value - median) / max(mad, 0.1 * abs(median), 1e-3))
    top = max(peers, default=0.0)
    return value / top if top > 0 else 0.0


def _earliest_first(
    order: list[str], scores: Mapping[str, float], current: Mapping[str, Features]
) -> list[str]:
    """Among the candidates tied with the leader, the one that deviated first leads."""
    if len(order) < 2 or scores[order[0]] <= 0:
        return order
    tied = [n for n in order if scores[n] >= CLOSE * scores[order[0]]]
    timed = [n for n in tied if current[n].first_deviation is not None]
    if len(timed) < 2:
        return order
    first = min(timed, key=lambda n: current[n].first_deviation or math.inf)
    return [first, *[n for n in order if n != first]]
