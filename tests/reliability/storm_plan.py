"""The storm's plan, pure and seeded: which Alertmanager v4 notifications are sent, when and to
which replica, and what Medic must hold for each group and alert once they are all taken in.

Alerts are spread over groups as Alertmanager groups them (``group_by: [alertname, namespace,
service, shard]``); each group lives through a realistic sequence, one notification per
``step`` (its group_interval):

- ``first``: the first half of its alerts firing (group_wait after the first one fired);
- ``grown``: all of them firing (each notification carries every alert of the group);
- some groups then ``partial``: a third of the alerts resolved, the rest still firing;
- others ``resolved`` (every alert), and half of those ``refiring`` later (new ``startsAt``);
- some get a ``repeat``: their last notification sent again unchanged (repeat_interval).

Every notification is delivered twice, as an Alertmanager HA pair does: once to a replica picked
at random and once, up to ``HA_JITTER`` seconds later, to another one.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime

SERVICES = ("recommender", "checkout", "frontend")  # the simulated shop's deployments
NAMESPACE = "shop"
ALERTNAMES = (
    "HighLatencyP95", "HighErrorRate", "PodCrashLooping", "CPUThrottlingHigh",
    "MemoryNearLimit", "RequestRateDrop", "SaturationHigh", "SLOBurnRateFast",
)  # fmt: skip
HA_JITTER = 0.25  # seconds between the two members of the pair sending the same notification
FIRED_BEFORE = 120.0  # an alert fired this long before its group's first notification
LAST_AT = 0.9  # the last notification of any group leaves at this fraction of the duration


@dataclass(frozen=True)
class Notification:
    group: int
    kind: str  # first, grown, partial, resolved, refiring, repeat
    at: float  # seconds after the storm's start
    firing: tuple[str, ...]  # fingerprints firing in it
    resolved: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class Delivery:
    at: float
    replica: int
    notification: int  # index into StormPlan.notifications


@dataclass(frozen=True)
class StormPlan:
    group_keys: tuple[str, ...]
    group_of: dict[str, int]  # fingerprint -> group
    notifications: tuple[Notification, ...]
    deliveries: tuple[Delivery, ...]  # in the order they leave

    @property
    def alerts(self) -> int:
        return len(self.group_of)


@dataclass(frozen=True)
class _Alert:
    labels: dict[str, str]
    fingerprint: str


def _group_alerts(group: int, count: int) -> list[_Alert]:
    service = SERVICES[group % len(SERVICES)]
    alerts = []
    for i in range(count):
        labels = {
            "alertname": ALERTNAMES[group % len(ALERTNAMES)],
            "namespace": NAMESPACE,
            "service": service,
            "shard": f"s{group:04d}",
            "pod": f"{service}-{group:04d}-{i:02d}",
            "severity": "page" if group % 5 == 0 else "warning",
        }
        canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"))
        alerts.append(_Alert(labels, hashlib.sha256(canonical.encode()).hexdigest()[:16]))
    return alerts


def group_key(group: int) -> str:
    """The groupKey Alertmanager sends for the group (route path, then the grouping labels)."""
    alertname = ALERTNAMES[group % len(ALERTNAMES)]
    service = SERVICES[group % len(SERVICES)]
    return (
        f'{{}}/{{severity=~"page|warning"}}:{{alertname="{alertname}", namespace="{NAMESPACE}", '
        f'service="{service}", shard="s{group:04d}"}}'
    )


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _body(
    group: int, alerts: list[_Alert], firing: set[int], starts: dict[int, float], now: float
) -> bytes:
    """One v4 notification carrying every alert of the group: those in ``firing`` firing (since
    ``starts``), the others resolved at ``now``."""
    entries = []
    for i, alert in enumerate(alerts):
        is_firing = i in firing
        entries.append({
            "status": "firing" if is_firing else "resolved",
            "labels": alert.labels,
            "annotations": {
                "summary": f"{alert.labels['alertname']} on {alert.labels['pod']}",
                "description": "the storm benchmark's alert",
            },
            "startsAt": _iso(starts[i]),
            "endsAt": "0001-01-01T00:00:00Z" if is_firing else _iso(now),
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
            "fingerprint": alert.fingerprint,
        })  # fmt: skip
    first = alerts[0].labels
    common = {k: first[k] for k in ("alertname", "namespace", "service", "shard")}
    return json.dumps({
        "version": "4",
        "groupKey": group_key(group),
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "medic",
        "groupLabels": common,
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": entries,
    }).encode()  # fmt: skip


def plan_storm(
    *, alerts: int, groups: int, duration: float, replicas: int, start: float, seed: int
) -> StormPlan:
    """The storm: ``alerts`` alerts over ``groups`` groups, sent within ``duration`` seconds of
    ``start`` (Unix time, the alerts' times are real ones around it) to ``replicas`` replicas."""
    if groups < 1 or alerts < 2 * groups or replicas < 1 or duration <= 0:
        raise ValueError("a storm needs at least one group, two alerts per group, one replica")
    rng = random.Random(seed)
    step = duration * LAST_AT / 9  # first within the first half; the last of 4 steps after it
    notifications: list[Notification] = []
    group_of: dict[str, int] = {}
    keys = []
    for group in range(groups):
        count = alerts // groups + (1 if group < alerts % groups else 0)
        members = _group_alerts(group, count)
        group_of.update((a.fingerprint, group) for a in members)
        keys.append(group_key(group))
        at = rng.uniform(0, duration * LAST_AT - 4 * step)
        starts = {i: start + at - FIRED_BEFORE + rng.uniform(0, 60) for i in range(count)}
        everyone = set(range(count))
        sequence: list[tuple[str, set[int]]] = [("first", set(range((count + 1) // 2))),
                                                 ("grown", everyone)]  # fmt: skip
        fate = rng.random()
        if fate < 0.3:
            sequence.append(("partial", set(range(count // 3, count))))
        elif fate < 0.6:
            sequence.append(("resolved", set()))
            if rng.random() < 0.5:
                sequence.append(("refiring", everyone))
        if rng.random() < 0.2 and sequence[-1][1]:  # Alertmanager repeats what still fires
            sequence.append(("repeat", sequence[-1][1]))
        for n, (kind, firing) in enumerate(sequence):
            sent = at + n * step
            if kind == "refiring":
                starts = {i: start + sent - rng.uniform(5, 30) for i in range(count)}
            body = _body(group, members, firing, starts, start + sent)
            notifications.append(Notification(
                group, kind, sent,
                tuple(members[i].fingerprint for i in sorted(firing)),
                tuple(members[i].fingerprint for i in sorted(everyone - firing)),
                body,
            ))  # fmt: skip
    deliveries = []
    for index, notification in enumerate(notifications):
        first = rng.randrange(replicas)
        others = [r for r in range(replicas) if r != first] or [first]
        deliveries.append(Delivery(notification.at, first, index))
        deliveries.append(
            Delivery(notification.at + rng.uniform(0, HA_JITTER), rng.choice(others), index)
        )
    deliveries.sort(key=lambda d: d.at)
    return StormPlan(tuple(keys), group_of, tuple(notifications), tuple(deliveries))
