"""Verification: after acting, wait, re-read the symptom metrics and say whether they recovered;
after a model remedy, also whether the registry shows it and the quality proxy recovered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot import messages
from bot.config import VerificationSettings
from bot.diagnosis.model_checks import StateCheck
from bot.diagnosis.signals import Glossary, format_value
from detectors import (
    Direction,
    Finding,
    MetricSource,
    MetricSourceError,
    PartialMetricsError,
    Series,
)
from tools.clock import Clock
from tools.errors import ToolError


@dataclass(frozen=True)
class MetricCheck:
    key: str
    description: str
    baseline: float
    during: float
    after: float | None
    recovered: bool
    text: str


@dataclass(frozen=True)
class Verification:
    recovered: bool
    checks: list[MetricCheck | StateCheck]
    note: str = ""


def with_model_checks(
    verification: Verification, checks: Sequence[StateCheck], quality_metric: str
) -> Verification:
    """``verification`` of a model remedy: recovered only if the registry facts hold
    (``bot.diagnosis.model_checks``) and the quality proxy was re-checked and is back - a model
    put back whose click-through stays low did not fix anything. "Not verified" names each fact
    that did not hold."""
    quality = [
        c
        for c in verification.checks
        if isinstance(c, MetricCheck) and c.key.partition("{")[0] == quality_metric
    ]
    added: list[MetricCheck | StateCheck] = list(checks)
    if not quality:
        added.append(
            StateCheck(
                f"quality:{quality_metric}",
                "quality proxy",
                False,
                messages.VERIFY_QUALITY_UNJUDGED.format(metric=quality_metric),
            )
        )
    every = [*verification.checks, *added]
    recovered = bool(quality) and verification.recovered and all(c.recovered for c in every)
    return Verification(recovered, every, verification.note)


def verify(
    source: MetricSource,
    clock: Clock,
    catalog: Glossary,
    namespace: str,
    service: str,
    findings: Sequence[Finding],
    settings: VerificationSettings,
) -> Verification:
    """Re-check every abnormal symptom metric after ``settings.delay_seconds``."""
    symptoms = [
        f
        for f in findings
        if catalog.is_bad(f) and (s := catalog.signal(f.metric)) and s.kind == "symptom"
    ]
    if not symptoms:
        return Verification(False, [], "no abnormal symptom metric to re-check")
    clock.sleep(settings.delay_seconds)
    now = clock.now()
    try:
        fetched = source.fetch(namespace, service, now - settings.window_seconds, now + 1)
    except PartialMetricsError as exc:  # another metric's bad query: judge what was read
        fetched = exc.series
    except (MetricSourceError, ToolError) as exc:
        return Verification(False, [], f"could not re-read metrics: {exc}")
    series = {s.key: s for s in fetched}
    checks: list[MetricCheck | StateCheck] = [
        _check(f, series.get(f.key), catalog, settings.tolerance) for f in symptoms
    ]
    return Verification(all(c.recovered for c in checks), checks)


def _check(
    finding: Finding, series: Series | None, catalog: Glossary, tolerance: float
) -> MetricCheck:
    signal = catalog.signal(finding.metric)
    name = signal.description if signal else finding.metric
    unit = signal.unit if signal else "count"
    if series is None or len(series) == 0:
        return MetricCheck(
            finding.key,
            name,
            finding.baseline,
            finding.observed,
            None,
            False,
            f"{name}: no recent samples",
        )
    after = float(np.median(series.values))
    if finding.direction is Direction.UP:
        recovered = after <= finding.baseline * (1 + tolerance)
    else:
        recovered = after >= finding.baseline * (1 - tolerance)
    verdict = "back to" if recovered else "still at"
    text = (
        f"{name} {verdict} {format_value(after, unit)} "
        f"(baseline {format_value(finding.baseline, unit)}, "
        f"during the incident {format_value(finding.observed, unit)})"
    )
    return MetricCheck(
        finding.key, name, finding.baseline, finding.observed, after, recovered, text
    )
