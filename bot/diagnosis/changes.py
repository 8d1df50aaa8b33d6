"""What changed: recent rollouts of the service - a new image, a new configuration, a new model
version - and how close each came before the anomaly. A change just before the symptoms, with no
rise in load to explain them, is strong evidence; one long before, or after they began, is not.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot import messages
from bot.diagnosis.hypotheses import Evidence, anomaly_start
from bot.diagnosis.signals import Glossary
from detectors import Direction, Finding
from tools.backends import ClusterBackend, Rollout
from tools.errors import ToolError

CHANGE_WEIGHT = 0.85  # evidence of a change right at the anomaly's start
NO_LOAD_BONUS = 0.1  # nothing else (more requests, bigger ones) explains the symptoms
LOAD_DISCOUNT = 0.5  # a rise in load moved too: it explains the symptoms at least as well
CHANGE_TAU = 600.0  # seconds: the evidence of a change fades as e^(-lead / tau)
MIN_WEIGHT = 0.05
SAME_TIME = 60.0
HISTORY = 5  # revisions read

ChangeKind = Literal["image", "config", "model"]
CAUSE_OF: dict[ChangeKind, str] = {
    "image": "bad-rollout",
    "config": "config-change",
    "model": "model-change",
}


@dataclass(frozen=True)
class Change:
    """One rollout: what differs from the revision before it."""

    service: str
    revision: int
    at: float
    kind: ChangeKind
    what: str
    change_cause: str
    live: bool  # the revision running now: a rollback undoes exactly this change

    @property
    def cause(self) -> str:
        return CAUSE_OF[self.kind]

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.at, UTC).strftime("%H:%M")
        why = f' "{self.change_cause}"' if self.change_cause else ""
        return f"rollout of {self.service} rev {self.revision} at {when} UTC ({self.what}){why}"


def _timestamp(text: str) -> float | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    keys = sorted(set(before) | set(after))
    return [
        f"{k} {after.get(k, '-')} (was {before.get(k, '-')})"
        for k in keys
        if before.get(k) != after.get(k)
    ]


def _short(image: str) -> str:
    """The image without its registry path: 'checkout:1.43.0'."""
    return image.rsplit("/", 1)[-1]


def changes_from(rollouts: Sequence[Rollout], service: str) -> list[Change]:
    """The changes between consecutive revisions, newest first."""
    ordered = sorted(rollouts, key=lambda r: r.revision)
    changes: list[Change] = []
    for before, after in itertools.pairwise(ordered):
        at = _timestamp(after.created_at)
        if at is None:
            continue
        labels = _diff(before.labels, after.labels) + _diff(before.annotations, after.annotations)
        model = [d for d in labels if "model" in d.split(" ", 1)[0].lower()]
        kind: ChangeKind
        if model:
            kind, what = "model", "; ".join(model)
        elif before.images != after.images:
            now, was = ", ".join(map(_short, after.images)), ", ".join(map(_short, before.images))
            kind, what = "image", f"image {now} (was {was})"
        else:
            kind, what = "config", "; ".join(labels) or "pod template changed"
        live = after.revision == ordered[-1].revision
        changes.append(Change(service, after.revision, at, kind, what, after.change_cause, live))
    return changes[::-1]


def read_rollouts(
    cluster: ClusterBackend, namespace: str, service: str
) -> tuple[list[Rollout], str | None]:
    """The service's recent rollouts (what changed, and the model its pod template names), or
    none and a note saying why they could not be read."""
    try:
        return cluster.recent_rollouts(namespace, service, HISTORY), None
    except ToolError as exc:
        return [], messages.ROLLOUT_HISTORY_UNAVAILABLE.format(why=exc)


def read_changes(
    cluster: ClusterBackend, namespace: str, service: str
) -> tuple[list[Change], str | None]:
    """Recent changes of the service, or none and a note saying why they could not be read."""
    rollouts, note = read_rollouts(cluster, namespace, service)
    return changes_from(rollouts, service), note


def weigh_changes(
    changes: Sequence[Change], findings: Sequence[Finding], catalog: Glossary
) -> list[tuple[Change, Evidence]]:
    """Each change close enough before the anomaly to matter, with its evidence."""
    start = anomaly_start(findings, catalog)
    if start is None:
        return []
    first = min((f for f in findings if catalog.is_bad(f)), key=lambda f: f.start)
    signal = catalog.signal(first.metric)
    moved = f"{signal.description if signal else first.metric} " + (
        "rose" if first.direction is Direction.UP else "fell"
    )
    load = any(
        (s := catalog.signal(f.metric)) is not None and s.load and catalog.is_bad(f)
        for f in findings
    )
    weighed = []
    for change in changes:
        lead = start - change.at
        if lead < -SAME_TIME:
            continue  # it came after the symptoms began
        closeness = math.exp(-max(lead, 0.0) / CHANGE_TAU)
        weight = CHANGE_WEIGHT * closeness
        weight = weight * LOAD_DISCOUNT if load else weight + NO_LOAD_BONUS * closeness
        if weight < MIN_WEIGHT:
            continue
        when = f"{lead / 60:.0f} min before {moved}" if lead >= SAME_TIME else f"as {moved}"
        text = f"{change.describe()}, {when}" + ("; but load rose too" if load else "")
        weighed.append((change, Evidence("change", text, round(min(weight, 0.95), 3))))
    return weighed
