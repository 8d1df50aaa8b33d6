"""The watch's checks: each looks at one service's recent metrics and says what is worth a
heads-up. Pure logic over a :class:`ServiceView`; a new check (drift of an ML service's inputs,
which the model registry's part computes) plugs in behind the same small interface."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bot.watch.findings import Concern, ServiceView, Target, WatchFinding
from bot.watch.limits import CONSUMERS_SUFFIX
from detectors import (
    DEFAULT_ENSEMBLE,
    EnsembleConfig,
    FindingRules,
    Forecast,
    ForecastRules,
    Series,
    detect_anomalies,
    time_to_threshold,
)
from detectors.forecast import current_rise, freed_rise, persists, recent_eta, relative_noise
from tools.actions import Action

CPU = "cpu_utilization_pct"


# The labels that say which of a metric's series heads for its limit (a node and its mount, a
# volume claim, a quota's resource); a region or a pod is not news in a service's heads-up.
WHERE_LABELS = ("instance", "node", "mountpoint", "persistentvolumeclaim", "resource")


def where(labels: Mapping[str, str]) -> str:
    """Which series of a metric heads for its limit (``instance=node-a, mountpoint=/var``)."""
    return ", ".join(f"{k}={labels[k]}" for k in WHERE_LABELS if labels.get(k))


class Check(Protocol):
    """One kind of look at a service; ``name`` appears in notes and in `medic watch --json`."""

    @property
    def name(self) -> str: ...

    def run(self, view: ServiceView) -> list[WatchFinding]: ...


@dataclass(frozen=True)
class ForecastCheck:
    """A metric heading for its limit (discovered or configured) within ``horizon`` seconds at
    its trend over the last ``trends`` seconds (each window, the earliest crossing): the long
    window is steady, the short one sees a leak that began a quarter of an hour ago (a robust
    fit over a window that is mostly flat still says flat). The trend must get there within
    the horizon and its slower bound within twice that: a noisy flat line's fast bound alone
    is no heads-up. ``quick`` (seconds, a few minutes of samples) sees a trend minutes after
    it begins, where the windows above still hold mostly flat time: its Theil-Sen fit counts
    only when even the slower bound of its ``quick_confidence`` interval reaches the limit
    within the horizon - a few noisy samples must agree on the slope, not just lean.

    ``steady`` (seconds, shorter still) does the same on a *steady* series only - one whose
    successive samples before the window moved by at most ``steady_noise`` of its level
    (:func:`~detectors.forecast.relative_noise`; a disk's usage, not a working set that wobbles
    by percents): there a couple of minutes of samples already agree on a slope, where on a
    noisy series they would agree by chance a few times a day.

    On a steady series a trend must also go on up to the last sample: over the last
    ``steady_tail`` seconds it must still move by more than ``steady_tail_share`` of the
    window's slope (:func:`~detectors.forecast.persists`), for the steady and the short window
    alike. A quiet disk written in a burst (a log rotation, a backup writing 2% in a minute)
    rises in one step and is flat again; a filling disk goes on.

    ``burst_span`` (seconds; 0: not asked) remembers a steady series' own bursts: when its
    longer history (the view's, else its recent series) shows a rise that was given back again
    within ``burst_span`` - by at least ``burst_freed`` of it, as a backup's or a log rotation's
    files are removed - a new rise counts only once it stands more than ``burst_margin`` times
    the largest such burst above the lowest point of the last ``burst_span``: the short and
    steady windows' trend (and the long windows' too with ``burst_long``) is held until then.
    A quiet disk written in long bursts that are freed again is no heads-up every few hours; a
    disk filling in bursts gives nothing back and is judged as before."""

    horizon: float
    trends: tuple[float, ...]
    quick: float | None = None
    quick_confidence: float = 0.99
    steady: float | None = None
    steady_noise: float = 0.0
    steady_confidence: float = 0.99
    steady_tail: float = 0.0
    steady_tail_share: float = 0.0
    burst_span: float = 0.0
    burst_freed: float = 0.5
    burst_margin: float = 1.0
    burst_long: bool = False
    memory: float = 0.0  # seconds of history the burst memory reads (the watch reads it)
    name: str = "forecast"

    def run(self, view: ServiceView) -> list[WatchFinding]:
        found: dict[str, WatchFinding] = {}
        history = {(s.metric, tuple(sorted(s.labels.items()))): s for s in view.history}
        for series in view.series:
            limit = view.limits.get(series.metric)
            if limit is None or len(series) == 0:
                continue
            longer = history.get((series.metric, tuple(sorted(series.labels.items()))))
            held = self._held(series, longer)
            earliest = self._earliest(series, limit.value, held)
            if earliest is None:
                continue
            forecast, window = earliest
            soonest = min(forecast.earliest, recent_eta(series, limit.value, window))
            finding = WatchFinding(
                target=view.target,
                concern=Concern.LIMIT,
                subject=series.metric,
                level=float(series.values[-1]),
                limit=limit,
                eta_seconds=forecast.eta,
                eta_earliest_seconds=min(soonest, forecast.eta),
                confidence=0.9 if math.isfinite(forecast.latest) else 0.5,
                details={"where": named} if (named := where(series.labels)) else {},
                consumers=consumers(view.series, series.metric),
                consumers_more=max(
                    0, len(ranked_consumers(view.series, series.metric)) - SHOWN_CONSUMERS
                ),
            )
            known = found.get(series.metric)
            if known is None or (known.eta_seconds or 0) > forecast.eta:
                found[series.metric] = finding  # the label set that gets there first
        return list(found.values())

    def _held(self, series: Series, longer: Series | None) -> bool:
        """Whether a steady series' rise is still within what its own freed bursts did."""
        if self.burst_span <= 0 or not self._steady(series, self.steady or self.quick or 0.0):
            return False
        bursts = max(
            freed_rise(s, self.burst_span, self.burst_freed)
            for s in (series, longer)
            if s is not None
        )
        return bursts > 0 and current_rise(series, self.burst_span) <= self.burst_margin * bursts

    def _earliest(
        self, series: Series, limit: float, held: bool = False
    ) -> tuple[Forecast, float] | None:
        """The earliest crossing of the windows that count (``held``: the short ones not, the
        long ones neither with ``burst_long``), and the window it was fitted on."""
        found: list[tuple[Forecast, float]] = []
        if held and self.burst_long:
            return None
        for trend in self.trends:
            rules = ForecastRules(horizon=self.horizon, lookback=trend)
            forecast = time_to_threshold(series, limit, rules)
            if forecast is None or forecast.eta > self.horizon:
                continue
            if forecast.latest > 2 * self.horizon:
                continue
            found.append((forecast, trend))
        if held:
            return min(found, key=lambda f: f[0].eta, default=None)
        if self.quick is not None:
            rules = ForecastRules(
                horizon=self.horizon, lookback=self.quick, confidence=self.quick_confidence
            )
            forecast = time_to_threshold(series, limit, rules)
            goes_on = not self._steady(series, self.quick) or self._goes_on(series, self.quick)
            if forecast is not None and forecast.latest <= self.horizon and goes_on:
                found.append((forecast, self.quick))
        if self.steady is not None and self._steady(series, self.steady):
            rules = ForecastRules(
                horizon=self.horizon, lookback=self.steady, confidence=self.steady_confidence
            )
            forecast = time_to_threshold(series, limit, rules)
            sure = forecast is not None and forecast.latest <= self.horizon
            if forecast is not None and sure and self._goes_on(series, self.steady):
                found.append((forecast, self.steady))
        return min(found, key=lambda f: f[0].eta, default=None)

    def _steady(self, series: Series, window: float) -> bool:
        return relative_noise(series, window) <= self.steady_noise

    def _goes_on(self, series: Series, window: float) -> bool:
        if self.steady_tail <= 0:
            return True
        return persists(series, window, 1, self.steady_tail, self.steady_tail_share)


SHOWN_CONSUMERS = 3  # services named as taking a shared limit (the biggest)


def consumers(
    series: Sequence[Series], metric: str, shown: int = SHOWN_CONSUMERS
) -> tuple[tuple[str, float], ...]:
    """What each workload takes of a shared limit ``metric`` (a quota), read beside it as
    ``metric`` + :data:`~bot.watch.limits.CONSUMERS_SUFFIX` labelled by workload: the ``shown``
    biggest at their latest value. Nothing for a limit that is not shared."""
    return ranked_consumers(series, metric)[:shown]


def ranked_consumers(series: Sequence[Series], metric: str) -> tuple[tuple[str, float], ...]:
    """Every workload read as taking a shared limit ``metric``, biggest first (the source
    reads at most :data:`~bot.watch.limits.MAX_CONSUMERS`)."""
    wanted = metric + CONSUMERS_SUFFIX
    latest: dict[str, float] = {}
    for s in series:
        name = s.labels.get("workload", "")
        if s.metric != wanted or not name or len(s) == 0:
            continue
        value = float(s.values[-1])
        if math.isfinite(value) and value > 0:
            latest[name] = latest.get(name, 0.0) + value
    return tuple(sorted(latest.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True)
class AnomalyCheck:
    """The streaming detectors of an investigation, over the last ``recent`` seconds against the
    rest of the look-back: a symptom (``symptoms``: metric -> the direction that hurts) that
    left its normal band the way that hurts. Drivers and resources alone (traffic rising in
    the morning, a pool busier with it) are no heads-up: they are what a day looks like."""

    recent: float
    min_confidence: float
    symptoms: Mapping[str, str]
    ensemble: EnsembleConfig = DEFAULT_ENSEMBLE
    rules: FindingRules = field(default_factory=FindingRules)
    name: str = "anomaly"

    def run(self, view: ServiceView) -> list[WatchFinding]:
        split = view.now - self.recent
        watched = [s for s in view.series if s.metric in self.symptoms]
        findings = detect_anomalies(watched, split, self.ensemble, self.rules)
        return [
            WatchFinding(
                target=view.target,
                concern=Concern.ANOMALY,
                subject=f.metric,
                level=f.observed,
                baseline=f.baseline,
                since=f.start,
                confidence=f.confidence,
                details={"direction": f.direction.value},
            )
            for f in findings
            if f.confidence >= self.min_confidence and f.end >= split
            if self.symptoms.get(f.metric) == f.direction.value
        ]


@dataclass(frozen=True)
class RightSizingCheck:
    """Replicas against load, on CPU utilisation (percent of the CPU limit): below
    ``over_below`` at the 95th percentile of a whole ``window`` (a day by default: a night's
    lull is no reason) is over-provisioned; above ``saturated_above`` at the median of the last
    ``saturated`` seconds is saturated - scale out before the latency alert. The proposed
    replicas bring the load to ``target`` percent; the guard judges the change."""

    window: float
    over_below: float
    saturated_above: float
    saturated: float
    target: float
    name: str = "rightsizing"

    def run(self, view: ServiceView) -> list[WatchFinding]:
        replicas = view.replicas
        if not replicas:
            return []
        found = []
        recent = _values(view.series, CPU, view.now - self.saturated, view.now)
        if recent.size >= 3 and (hot := float(np.median(recent))) > self.saturated_above:
            wanted = math.ceil(replicas * hot / self.target)
            if wanted > replicas:
                found.append(self._finding(view, Concern.SATURATED, hot, replicas, wanted))
        history = _values(view.history, CPU, view.now - self.window, view.now)
        covered = _span(view.history, CPU, view.now - self.window) >= 0.9 * self.window
        if not found and replicas > 1 and history.size >= 10 and covered:
            busy = float(np.percentile(history, 95))
            wanted = max(1, math.ceil(replicas * busy / self.target))
            if busy < self.over_below and wanted < replicas:
                found.append(self._finding(view, Concern.OVER_PROVISIONED, busy, replicas, wanted))
        return found

    def _finding(
        self, view: ServiceView, concern: Concern, level: float, replicas: int, wanted: int
    ) -> WatchFinding:
        t = view.target
        return WatchFinding(
            target=t,
            concern=concern,
            subject=CPU,
            level=level,
            baseline=float(replicas),
            confidence=0.9,
            action=Action("scale", t.namespace, t.service, {"replicas": wanted}),
        )


# What the drift check asks: the findings about one service's model inputs at ``now``. The
# model registry's part provides it (live feature histograms against the serving version's
# training profile); the lead wires it in bot/wiring.
DriftProbe = Callable[[Target, float], Sequence[WatchFinding]]


@dataclass(frozen=True)
class DriftCheck:
    """Drift of an ML service's inputs against its training data: an extension point that runs
    whatever ``probe`` the wiring gives it (nothing is reported for a service that serves no
    registered model: the probe returns no findings)."""

    probe: DriftProbe
    name: str = "drift"

    def run(self, view: ServiceView) -> list[WatchFinding]:
        return list(self.probe(view.target, view.now))


def _values(series: Sequence[Series], metric: str, start: float, end: float) -> np.ndarray:
    parts = [s.between(start, end).values for s in series if s.metric == metric and not s.labels]
    if not parts:  # labelled only (a region, a pod): all of them together
        parts = [s.between(start, end).values for s in series if s.metric == metric]
    return np.concatenate(parts) if parts else np.zeros(0)


def _span(series: Sequence[Series], metric: str, start: float) -> float:
    times = [s.between(start, math.inf).timestamps for s in series if s.metric == metric]
    present = [t for t in times if t.size]
    if not present:
        return 0.0
    return float(max(t[-1] for t in present) - min(t[0] for t in present))
