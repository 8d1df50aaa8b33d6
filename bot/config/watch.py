"""Settings of the watch (``watch:``): which services it looks at before alerts fire, how often,
where its heads-ups go, when it keeps quiet, and the thresholds of its checks."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

# "namespace/service" or "service" (the default namespace): Kubernetes names, so a watched
# service can never carry markup or a selector into a query.
WatchedService = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
    ),
]
Namespace = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
# The steady window (benchmarks/bench_watch_window.py --steady, chosen on the tuning set only)
STEADY_MINUTES = 3.0
STEADY_NOISE = 0.005
STEADY_CONFIDENCE = 0.99
# ... and on a steady series a trend must go on to its end (bench_watch_window.py --persist)
STEADY_TAIL_SECONDS = 30.0
STEADY_TAIL_SHARE = 0.75
# ... and a steady series' own freed bursts hold a rise back (bench_watch_bursts.py, tuning set)
BURST_SPAN_MINUTES = 60.0
BURST_FREED = 0.9
BURST_MARGIN = 1.0
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class QuietHours(BaseModel):
    """A daily span (UTC, ``HH:MM``; it may wrap past midnight) in which no heads-up is posted."""

    model_config = ConfigDict(extra="forbid")
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value[:20]!r} is not a time of day HH:MM (UTC)")
        return value

    def minutes(self) -> tuple[int, int]:
        def of(text: str) -> int:
            hours, minutes = text.split(":")
            return int(hours) * 60 + int(minutes)

        return of(self.start), of(self.end)


class RightSizingSettings(BaseModel):
    """When a service's replicas are too many or too few for its load, judged on CPU utilisation
    (percent of the CPU limit) sustained over ``window_hours`` (too many) or
    ``saturated_minutes`` (too few)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enabled: bool = True
    window_hours: float = Field(24, gt=0, le=24 * 14)
    over_provisioned_below_pct: float = Field(15, ge=0, le=100)
    saturated_above_pct: float = Field(80, gt=0, le=100)
    saturated_minutes: float = Field(15, gt=0, le=24 * 60)
    target_pct: float = Field(55, gt=0, le=100)


class WatchSettings(BaseModel):
    """The watch: checks over recent metrics of the watched services, and heads-up threads."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enabled: bool = Field(
        False,
        description="Run the scheduled watch inside `medic serve` (`medic watch --once` "
        "runs one pass whatever this says).",
    )
    services: list[WatchedService] = Field(
        default_factory=list, max_length=500, description="`namespace/service` or `service`."
    )
    namespaces: list[Namespace] = Field(
        default_factory=list,
        max_length=50,
        description="Every workload of these namespaces is watched too.",
    )
    max_services: int = Field(200, ge=1, le=2000, description="Most services in one pass.")
    channel: str | None = Field(None, description="Where heads-ups go; unset: alert_channel.")
    interval_seconds: float = Field(
        60,
        ge=10,
        le=86400,
        description="A pass this often: a minute, as Prometheus evaluates its alert rules; the "
        "30-minute lead on a filling disk at its edge needs the heads-up 2 minutes in.",
    )
    lookback_minutes: float = Field(120, ge=10, le=24 * 60)
    recent_minutes: float = Field(15, ge=1, le=240)
    horizon_minutes: float = Field(
        240,
        gt=0,
        le=7 * 24 * 60,
        description="A limit forecast to be reached within this long is a heads-up.",
    )
    trend_minutes: list[float] = Field(
        default_factory=lambda: [60.0, 20.0],
        min_length=1,
        max_length=4,
        description="The windows the forecast's trend is fitted on (minutes, each 5 to 1440); "
        "the earliest crossing counts.",
    )

    @field_validator("trend_minutes")
    @classmethod
    def _windows(cls, minutes: list[float]) -> list[float]:
        if any(not 5 <= m <= 24 * 60 for m in minutes):
            raise ValueError("each trend window is 5 to 1440 minutes")
        return minutes

    quick_trend_minutes: float | None = Field(
        5.0,
        ge=2.5,
        le=60,
        description="A short window (minutes; at least 10 samples) whose trend is a heads-up "
        "only when even the slower bound of its confidence interval reaches the limit within "
        "the horizon: sees a leak or a filling disk minutes after it begins. Unset: none.",
    )
    quick_confidence: float = Field(
        0.99, gt=0.5, lt=1, description="The confidence of the short window's interval."
    )
    steady_trend_minutes: float | None = Field(
        STEADY_MINUTES,
        ge=2.5,
        le=60,
        description="A shorter window still (minutes; at least 10 samples), counted as the short "
        "one is but only on a steady series - one whose successive samples before it moved by "
        "at most `steady_noise` of its level (a disk's usage): sees a filling disk a minute "
        "sooner. Unset: none.",
    )
    steady_noise: float = Field(
        STEADY_NOISE,
        ge=0,
        le=1,
        description="The most a series' median step between samples may be, as a share of its "
        "level, for the steady window to count on it.",
    )
    steady_confidence: float = Field(
        STEADY_CONFIDENCE,
        gt=0.5,
        lt=1,
        description="The confidence of the steady window's interval.",
    )
    steady_tail_seconds: float = Field(
        STEADY_TAIL_SECONDS,
        ge=0,
        le=600,
        description="On a steady series the short and steady windows' trend counts only if it "
        "still moves over its last this many seconds (at least 3 samples): a burst write on a "
        "quiet disk that stopped is no trend. 0: not asked.",
    )
    steady_tail_share: float = Field(
        STEADY_TAIL_SHARE,
        ge=0,
        le=10,
        description="How fast it must still move there, as a share of the window's slope.",
    )
    burst_span_minutes: float = Field(
        BURST_SPAN_MINUTES,
        ge=0,
        le=24 * 60,
        description="A steady series' burst memory: a rise it gave back again within this "
        "many minutes (a backup's or a log rotation's files removed) is one of its bursts, and "
        "a new rise is no heads-up from the short and steady windows while it stands no more "
        "than `burst_margin` times the largest of them above the lowest point of this span. "
        "0: no memory.",
    )
    burst_margin: float = Field(
        BURST_MARGIN, ge=0, le=100, description="How far past its own bursts a rise must go."
    )
    burst_memory_hours: float = Field(
        24,
        ge=0,
        le=24 * 14,
        description="How far back the bursts are looked for (read beside the look-back, once a "
        "pass, as right-sizing reads its day of CPU).",
    )
    anomaly_confidence: float = Field(0.9, ge=0, le=1)
    max_per_hour: int = Field(6, ge=1, le=1000, description="Heads-ups per channel per hour.")
    open_hours: float = Field(
        6,
        gt=0,
        le=24 * 14,
        description="A heads-up stays open this long after the last pass that found it: the "
        "same finding for the same service is not posted again meanwhile, and an alert for "
        "the service joins its thread.",
    )
    quiet_hours: QuietHours | None = None
    limits: dict[str, float] = Field(
        default_factory=dict,
        max_length=100,
        description="Metric -> the limit its forecast heads for, beside the limits discovered "
        "from the cluster and Prometheus.",
    )
    rightsizing: RightSizingSettings = Field(default_factory=RightSizingSettings)
