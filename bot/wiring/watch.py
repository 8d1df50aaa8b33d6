"""The watch put together from settings and the incident flow: its checks, its metric and limit
sources (the flow's metrics; with Prometheus, also the usage and limit queries of
:mod:`bot.watch.limits`), the cluster's replicas, and the guard's verdict on proposed changes.

The input-drift check of ML services runs when a model registry and live feature histograms are
at hand (``model_drift``): the same reading and comparison as the model-aware investigation."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bot.config import Settings
from bot.config.watch import BURST_FREED
from bot.flow import IncidentFlow
from bot.incidents import IncidentStore
from bot.watch.checks import (
    AnomalyCheck,
    Check,
    DriftCheck,
    DriftProbe,
    ForecastCheck,
    RightSizingCheck,
)
from bot.watch.drift import drift_probe
from bot.watch.findings import Target
from bot.watch.limits import (
    LIMIT_QUERIES,
    USAGE_QUERIES,
    ClusterLimits,
    CombinedLimits,
    ContainerLimitsReader,
    LimitSource,
    PrometheusLimits,
    QuotaLimits,
    QuotaReader,
)
from bot.watch.loop import WatchLoop
from bot.watch.proposals import WatchProposals
from bot.watch.publish import Deliver, HeadsUps, Offer
from bot.watch.runner import Watch
from bot.watch.store import WatchStore
from bot.watch.targets import watched
from bot.wiring.sources import UpToNow
from detectors import MetricSource, PrometheusMetricSource
from detectors.features import FeatureSource
from tools.actions import Action
from tools.backends import ClusterBackend
from tools.clock import Clock
from tools.registry import ModelRegistry
from tools.workflow import RemediationWorkflow


@dataclass(frozen=True)
class WatchParts:
    """What the watch uses of a cluster: its metrics, the cluster (replicas, workloads), the
    guarded workflow (its verdict on a proposed change), the clock and the default namespace.
    `medic serve` takes them from its flow; `medic watch --once` builds them without the
    investigation's heavier parts (no embedding model, no incident memory)."""

    metrics: MetricSource
    cluster: ClusterBackend
    workflow: RemediationWorkflow
    clock: Clock
    default_namespace: str

    @classmethod
    def of_flow(cls, flow: IncidentFlow) -> WatchParts:
        return cls(
            flow.metrics, flow.backends.cluster, flow.workflow, flow.clock, flow.default_namespace
        )


def symptoms() -> dict[str, str]:
    """The metrics that hurt when they move (the vocabulary's symptoms), with the way they hurt."""
    from knowledge.vocabulary import shipped_vocabulary

    return {s.metric: s.bad_direction for s in shipped_vocabulary().signals if s.kind == "symptom"}


def build_checks(settings: Settings, drift: DriftProbe | None = None) -> list[Check]:
    w = settings.watch
    checks: list[Check] = [
        ForecastCheck(
            horizon=60 * w.horizon_minutes,
            trends=tuple(60 * m for m in w.trend_minutes),
            quick=None if w.quick_trend_minutes is None else 60 * w.quick_trend_minutes,
            quick_confidence=w.quick_confidence,
            steady=None if w.steady_trend_minutes is None else 60 * w.steady_trend_minutes,
            steady_noise=w.steady_noise,
            steady_confidence=w.steady_confidence,
            steady_tail=w.steady_tail_seconds,
            steady_tail_share=w.steady_tail_share,
            burst_span=60 * w.burst_span_minutes,
            burst_freed=BURST_FREED,
            burst_margin=w.burst_margin,
            memory=3600 * w.burst_memory_hours if w.burst_span_minutes > 0 else 0.0,
        ),
        AnomalyCheck(
            recent=60 * w.recent_minutes,
            min_confidence=w.anomaly_confidence,
            symptoms=symptoms(),
            ensemble=settings.detectors.suite().ensemble,
            rules=settings.detectors.suite().rules,
        ),
    ]
    r = w.rightsizing
    if r.enabled:
        checks.append(
            RightSizingCheck(
                window=3600 * r.window_hours,
                over_below=r.over_provisioned_below_pct,
                saturated_above=r.saturated_above_pct,
                saturated=60 * r.saturated_minutes,
                target=r.target_pct,
            )
        )
    if drift is not None:
        checks.append(DriftCheck(drift))
    return checks


def model_drift(
    settings: Settings,
    cluster: ClusterBackend,
    registry: ModelRegistry | None,
    features: FeatureSource | None,
) -> DriftProbe | None:
    """The drift probe over the last ``watch.recent_minutes``; None without a registry or a
    source of live feature histograms (nothing to compare)."""
    if registry is None or features is None:
        return None
    return drift_probe(
        cluster,
        registry,
        features,
        60 * settings.watch.recent_minutes,
        settings.investigation.model.max_features,
    )


def rightsizing_of(checks: list[Check]) -> RightSizingCheck | None:
    return next((c for c in checks if isinstance(c, RightSizingCheck)), None)


def _prometheus(
    settings: Settings, queries: dict[str, str], clock: Clock
) -> PrometheusMetricSource:
    m = settings.metrics
    assert m.prometheus_url is not None
    client = httpx.Client(base_url=m.prometheus_url, timeout=m.timeout_seconds)
    return PrometheusMetricSource(
        client,
        queries,
        m.step_seconds,
        m.max_points,
        max_response_bytes=m.max_response_bytes,
        max_series=m.max_series,
        now=clock.now,
    )


def uses_prometheus(settings: Settings) -> bool:
    source = settings.metrics.source or ("prometheus" if settings.cluster == "kube" else "cluster")
    return source == "prometheus" and bool(settings.metrics.prometheus_url)


def build_watch(settings: Settings, parts: WatchParts, checks: list[Check] | None = None) -> Watch:
    metrics = parts.metrics
    cluster, workflow = parts.cluster, parts.workflow
    sources: list[LimitSource] = []
    if isinstance(cluster, ContainerLimitsReader):
        sources.append(ClusterLimits(cluster))
    if isinstance(cluster, QuotaReader):
        sources.append(QuotaLimits(cluster))
    if uses_prometheus(settings):
        queries = {**settings.metrics.effective_queries(), **USAGE_QUERIES}
        metrics = UpToNow(_prometheus(settings, queries, parts.clock), parts.clock)
        sources.append(PrometheusLimits(_prometheus(settings, dict(LIMIT_QUERIES), parts.clock)))
    limits = CombinedLimits(*sources)

    def replicas(target: Target) -> int | None:
        return cluster.get_deployment(target.namespace, target.service).replicas

    def verdict(action: Action) -> str:
        return workflow.check(action).text

    return Watch(
        metrics=metrics,
        checks=checks if checks is not None else build_checks(settings),
        lookback=60 * settings.watch.lookback_minutes,
        limits=limits,
        configured_limits=settings.watch.limits,
        replicas=replicas,
        verdict=verdict,
    )


def watch_loop(
    settings: Settings,
    flow: IncidentFlow,
    store: WatchStore,
    deliver: Deliver,
    owner: str,
    drift: DriftProbe | None = None,
    offer: Offer | None = None,
) -> WatchLoop | None:
    """The scheduled watch of `medic serve` (None unless ``watch.enabled``), posting through
    ``deliver``. ``drift``: the ML services' input-drift probe (default: from the flow's model
    registry and feature histograms, when it has them). ``offer``: where a proposed change is
    put to people (its heads-up thread), as a proposal of the heads-up's own incident."""
    w = settings.watch
    channel = w.channel or settings.alert_channel
    if not w.enabled or channel is None:
        return None
    parts = WatchParts.of_flow(flow)
    if drift is None and flow.models is not None:
        drift = model_drift(settings, parts.cluster, flow.models.registry, flow.models.features)
    checks = build_checks(settings, drift)
    headsups = HeadsUps(
        store=store,
        deliver=deliver,
        channel=channel,
        max_per_hour=w.max_per_hour,
        quiet=w.quiet_hours,
        rightsizing=rightsizing_of(checks),
        proposals=watch_proposals(settings, flow.incidents, flow.workflow) if offer else None,
        offer=offer,
    )
    return WatchLoop(
        watch=build_watch(settings, parts, checks),
        targets=lambda: watch_targets(settings, parts, store),
        headsups=headsups,
        store=store,
        interval=w.interval_seconds,
        owner=owner,
        now=parts.clock.now,
    )


def watch_proposals(
    settings: Settings, incidents: IncidentStore, workflow: RemediationWorkflow
) -> WatchProposals:
    """Findings' changes as proposals, verified against the right-sizing saturation threshold."""
    return WatchProposals(incidents, workflow, settings.watch.rightsizing.saturated_above_pct)


def watch_targets(settings: Settings, parts: WatchParts, store: WatchStore | None) -> list[Target]:
    """The services of this pass (configured, their namespaces' workloads, added from Slack)."""
    added = store.targets() if store is not None else []
    return watched(settings.watch, parts.default_namespace, added, parts.cluster.workloads)
