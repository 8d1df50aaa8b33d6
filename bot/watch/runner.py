"""One pass of the watch: for each watched service, read its recent metrics (and a longer CPU
history when right-sizing is on), learn its limits and replicas, and run every check.

Reading is the only I/O here, through injected sources. A source that is down is one note for
the pass (naming how many services it cost), not one per service; a check that fails costs
only itself. Proposed changes are judged by the guard (``verdict``) and never carried out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot import messages
from bot.watch.checks import Check, ForecastCheck, RightSizingCheck
from bot.watch.findings import Limit, ServiceView, Target, WatchFinding, WatchPass
from bot.watch.limits import LimitSource, NoLimits, limits_for
from detectors import MetricSource, MetricSourceError, PartialMetricsError, Series
from tools.actions import Action

log = logging.getLogger(__name__)

MAX_REASON = 300  # characters of a source's error in a note


@dataclass
class _Troubles:
    """What could not be read in one pass, gathered into one note per kind."""

    metrics: dict[str, list[str]] = field(default_factory=dict)  # reason -> services
    limits: dict[str, list[str]] = field(default_factory=dict)
    checks: dict[str, list[str]] = field(default_factory=dict)  # check -> services

    def notes(self) -> list[str]:
        out = []
        for reason, names in self.metrics.items():
            out.append(
                messages.WATCH_METRICS_DOWN.format(
                    reason=reason[:MAX_REASON], count=len(names), services=_few(names)
                )
            )
        for reason, names in self.limits.items():
            out.append(
                messages.WATCH_LIMITS_DOWN.format(
                    reason=reason[:MAX_REASON], count=len(names), services=_few(names)
                )
            )
        for check, names in self.checks.items():
            out.append(
                messages.WATCH_CHECK_FAILED.format(
                    check=check, count=len(names), services=_few(names)
                )
            )
        return out


def _few(names: Sequence[str], shown: int = 5) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


class Watch:
    def __init__(
        self,
        *,
        metrics: MetricSource,
        checks: Sequence[Check],
        lookback: float,
        limits: LimitSource | None = None,
        configured_limits: Mapping[str, float] | None = None,
        replicas: Callable[[Target], int | None] | None = None,
        verdict: Callable[[Action], str] | None = None,
    ) -> None:
        self._metrics = metrics
        self._checks = list(checks)
        self._lookback = lookback
        self._limits = limits or NoLimits()
        self._configured = dict(configured_limits or {})
        self._replicas = replicas
        self._verdict = verdict
        # a longer history for sustained load (right-sizing) and a disk's own bursts (forecast)
        windows = [c.window for c in self._checks if isinstance(c, RightSizingCheck)]
        windows += [c.memory for c in self._checks if isinstance(c, ForecastCheck)]
        self._history = max(windows, default=0.0)

    @property
    def checks(self) -> list[str]:
        return [c.name for c in self._checks]

    def run(
        self, targets: Sequence[Target], now: float, *, stopping: threading.Event | None = None
    ) -> WatchPass:
        """Every check over every target at ``now``; ``stopping`` ends the pass before the next
        service (a stopping `medic serve`)."""
        troubles = _Troubles()
        findings: list[WatchFinding] = []
        for target in targets:
            if stopping is not None and stopping.is_set():
                break
            view = self._view(target, now, troubles)
            if view is None:
                continue
            for check in self._checks:
                try:
                    found = check.run(view)
                except Exception:  # one check's bug must not silence the others
                    log.exception("watch check %s failed on %s", check.name, target.name)
                    troubles.checks.setdefault(check.name, []).append(target.name)
                    continue
                findings += [self._judged(f) for f in found]
        return WatchPass(now, findings, troubles.notes(), len(targets))

    def _view(self, target: Target, now: float, troubles: _Troubles) -> ServiceView | None:
        series = self._read(target, now - self._lookback, now, troubles)
        if series is None:
            return None
        history: list[Series] = []
        if self._history > self._lookback:
            history = self._read(target, now - self._history, now, troubles) or []
        try:
            discovered = self._limits.limits(target, now)
        except MetricSourceError as exc:
            troubles.limits.setdefault(str(exc), []).append(target.name)
            discovered = {}
        limits: dict[str, Limit] = limits_for(series, self._configured, discovered)
        return ServiceView(target, now, series, limits, history, self._replicas_of(target))

    def _read(
        self, target: Target, start: float, end: float, troubles: _Troubles
    ) -> list[Series] | None:
        try:
            return self._metrics.fetch(target.namespace, target.service, start, end)
        except PartialMetricsError as exc:  # the metrics that were read still count
            return list(exc.series)
        except MetricSourceError as exc:
            troubles.metrics.setdefault(str(exc), []).append(target.name)
            return None

    def _replicas_of(self, target: Target) -> int | None:
        if self._replicas is None:
            return None
        try:
            return self._replicas(target)
        except Exception as exc:  # unknown to the cluster, or the cluster away: no right-sizing
            log.info("no replicas for %s: %s", target.name, exc)
            return None

    def _judged(self, finding: WatchFinding) -> WatchFinding:
        if finding.action is None or self._verdict is None:
            return finding
        return replace(finding, verdict=self._verdict(finding.action))
