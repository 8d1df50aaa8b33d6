"""The watch's drift probe: an ML service's live inputs over the last minutes against the
training data of the version it serves - read and compared as the model-aware investigation does
(``bot.diagnosis.model``), without the rest of its look (no quality proxy, no earlier versions):
a heads-up needs to know that the inputs moved, not yet why."""

from __future__ import annotations

from bot.diagnosis.changes import read_rollouts
from bot.diagnosis.model import compare_features, served_by
from bot.watch.checks import DriftProbe
from bot.watch.findings import Concern, Target, WatchFinding
from detectors import MetricSourceError
from detectors.features import FeatureSource
from tools.backends import ClusterBackend
from tools.errors import ToolError
from tools.registry.base import ModelRegistry, RegistryError


def drift_probe(
    cluster: ClusterBackend,
    registry: ModelRegistry,
    features: FeatureSource,
    window_seconds: float,
    max_features: int,
) -> DriftProbe:
    """A probe finding each input feature of ``target``'s served model whose live distribution
    over the last ``window_seconds`` drifted from the serving version's training profile. A
    service that serves no registered model costs one rollout read; a registry or feature
    source that cannot answer is raised, so the watch notes the failed check once."""

    def probe(target: Target, now: float) -> list[WatchFinding]:
        rollouts, _ = read_rollouts(cluster, target.namespace, target.service)
        served = served_by(rollouts)
        if served is None:
            return []
        try:
            version = served.version
            if not version:
                named = registry.alias(served.model, served.alias)
                if named is None:
                    return []
                version = named.version
            profile = registry.training_profile(served.model, version)
            if profile is None:
                return []
            live = features.feature_histograms(
                target.namespace, target.service, now - window_seconds, now
            )
        except (RegistryError, MetricSourceError, ToolError) as exc:
            raise RuntimeError(f"drift of {target.name}: {exc}") from exc
        names = sorted(n for n in live.features if profile.feature(n) is not None)
        drift, _ = compare_features(profile, live.features, names[:max_features])
        return [
            WatchFinding(
                target=target,
                concern=Concern.DRIFT,
                subject=d.feature,
                level=d.psi,
                since=now - window_seconds,
                confidence=d.ks,
                details={"model": served.model, "version": version, "ks": f"{d.ks:.2f}"},
            )
            for d in drift
            if d.drifted
        ]

    return probe
