"""Label attribution: which label values explain a change, as Datadog Watchdog does.

A series whose labels extend another series of the same metric (``pod="a-1"`` under
``region="eu"``) is one of its breakdowns. Each breakdown's deviation is the change of its median
from the baseline to the finding's window; its share is its part of the total deviation in the
finding's direction (parts that moved the other way get no share). Exact for additive metrics
(rates, bytes, counts); for averages and percentiles it says which parts moved most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from detectors.findings import Contribution, Direction, Finding
from detectors.series import Series

MAX_CONTRIBUTIONS = 10


def split_breakdowns(series: Sequence[Series]) -> tuple[list[Series], dict[str, list[Series]]]:
    """Series to judge (no coarser series of the same metric exists) and, by their key, the
    breakdowns that refine them (those with the fewest extra labels)."""
    wholes: list[Series] = []
    parts: dict[str, list[Series]] = {}
    for s in series:
        parents = [
            p
            for p in series
            if p.metric == s.metric
            and len(p.labels) < len(s.labels)
            and p.labels.items() <= s.labels.items()
        ]
        if not parents:
            wholes.append(s)
            continue
        closest = max(parents, key=lambda p: len(p.labels))
        parts.setdefault(closest.key, []).append(s)
    return wholes, parts


def attribute(finding: Finding, breakdowns: Sequence[Series], split: float) -> Finding:
    """The finding with the share of its deviation contributed by each breakdown."""
    sign = 1.0 if finding.direction is Direction.UP else -1.0
    rows = []
    for part in breakdowns:
        before = part.values[part.timestamps < split]
        during = part.between(finding.start, finding.end + 1e-9).values
        if before.size == 0 or during.size == 0:
            continue
        baseline, observed = float(np.median(before)), float(np.median(during))
        extra = {k: v for k, v in part.labels.items() if finding.labels.get(k) != v}
        rows.append((extra, baseline, observed, max(sign * (observed - baseline), 0.0)))
    total = sum(r[3] for r in rows)
    if total <= 0:
        return finding
    contributions = sorted(
        (
            Contribution(extra, deviation / total, baseline, observed)
            for extra, baseline, observed, deviation in rows
            if deviation > 0
        ),
        key=lambda c: -c.share,
    )
    return replace(finding, attribution=tuple(contributions[:MAX_CONTRIBUTIONS]))
