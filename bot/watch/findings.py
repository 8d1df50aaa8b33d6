"""The watch's vocabulary: a watched service, what a check found about it, and a pass's result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from detectors import Series
from tools.actions import Action


@dataclass(frozen=True, order=True)
class Target:
    """One watched service."""

    namespace: str
    service: str

    @property
    def name(self) -> str:
        return f"{self.namespace}/{self.service}"


class Concern(StrEnum):
    """What a heads-up is about; each has its own wording (bot.messages)."""

    LIMIT = "limit"  # a metric heading for its limit
    ANOMALY = "anomaly"  # a metric left its normal band
    OVER_PROVISIONED = "over-provisioned"  # far more replicas than the load needs, for long
    SATURATED = "saturated"  # the replicas run hot: scale out before the latency alert
    DRIFT = "drift"  # an ML service's inputs moved away from its training data


@dataclass(frozen=True)
class Limit:
    """A limit a metric must stay below, and where it was learnt (shown in the heads-up)."""

    value: float
    origin: str


@dataclass(frozen=True)
class WatchFinding:
    """One thing worth a heads-up. ``subject`` (a metric or a feature) and ``concern`` make its
    identity: the same key for the same service is one open heads-up, however many passes find
    it. ``action`` is a proposed change (right-sizing), ``verdict`` the guard's word on it."""

    target: Target
    concern: Concern
    subject: str
    level: float
    baseline: float = 0.0
    limit: Limit | None = None
    eta_seconds: float | None = None
    # the fast bound of the limit forecast's interval: the limit may come this soon (a trend a
    # few minutes old, fitted on a window still partly flat, runs late)
    eta_earliest_seconds: float | None = None
    since: float | None = None
    confidence: float = 0.0
    action: Action | None = None
    verdict: str = ""
    details: Mapping[str, str] = field(default_factory=dict)
    # what each service takes of a shared limit (a namespace's quota), biggest first
    consumers: tuple[tuple[str, float], ...] = ()
    consumers_more: int = 0  # further services read as taking it, not named

    @property
    def key(self) -> str:
        return f"{self.concern.value}:{self.subject}"


@dataclass(frozen=True)
class ServiceView:
    """What one pass read about one service: its recent series, a longer history for judging
    sustained load (empty when not read), the limits its metrics head for, and its replicas."""

    target: Target
    now: float
    series: Sequence[Series]
    limits: Mapping[str, Limit]
    history: Sequence[Series] = ()
    replicas: int | None = None


@dataclass(frozen=True)
class WatchPass:
    """One pass over the watched services: the findings, and what could not be read (one note
    per source that was down, naming the services it cost)."""

    at: float
    findings: list[WatchFinding]
    notes: list[str]
    services: int
