"""The look at an ML service: which model version serves and since when, what changed in the
registry, how far live inputs (and outputs) moved from the training data of the serving version
and of the versions before it, and the quality proxy against its own history.

A service is an ML service when its pod template says so (``medic.io/model``, with
``medic.io/model-version`` or ``medic.io/model-alias``; tools.registry.base). Any other service
costs nothing: no registry or feature read. The registry or the feature source failing, or running
out of the investigation's time, is one note each; the look keeps what it read. Everything read
from a label or the registry is data (escaped where shown), bounded in count and length.

What it found is a :class:`~bot.diagnosis.model_look.ModelLook`; what that says about the cause,
:func:`bot.diagnosis.model_evidence.model_evidence`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from bot import messages
from bot.config import ModelSettings
from bot.diagnosis.model_look import (
    DriftChart,
    ModelLook,
    QualityProxy,
    RegistryChange,
    VersionDrift,
    since_tag,
)
from detectors import Direction, Finding, MetricSourceError, Series
from detectors.features import FeatureSource, Histogram
from detectors.histogram_drift import (
    FeatureDrift,
    HistogramError,
    checked,
    common_edges,
    feature_drift,
    rebinned,
)
from tools.backends import Rollout
from tools.errors import ToolError
from tools.registry.base import (
    ALIAS_LABEL,
    MODEL_LABEL,
    VERSION_LABEL,
    FeatureHistogram,
    ModelRegistry,
    ModelVersion,
    RegistryError,
    TrainingProfile,
)

DEFAULT_ALIAS = "champion"
MAX_NAME = 250  # a model, alias or version longer than this is not one
MAX_TEXT = 300  # a version's description, cut
MAX_METRICS = 8  # offline metrics shown
MAX_DRIFT = 10  # features kept, most moved first


@dataclass(frozen=True)
class ServedBy:
    """What a pod template says it serves."""

    model: str
    version: str
    alias: str
    since: float | None  # when the newest rollout carrying it went out


def served_by(rollouts: Sequence[Rollout]) -> ServedBy | None:
    """The model the newest revision's pod template names; None when it names none."""
    if not rollouts:
        return None
    ordered = sorted(rollouts, key=lambda r: r.revision, reverse=True)

    def read(r: Rollout, key: str) -> str:
        return (r.labels.get(key) or r.annotations.get(key) or "").strip()

    newest = ordered[0]
    model = read(newest, MODEL_LABEL)
    if not model:
        return None
    version, alias = read(newest, VERSION_LABEL), read(newest, ALIAS_LABEL)
    since = _timestamp(newest.created_at)
    for older in ordered[1:]:  # the same model and version since an earlier revision
        if (read(older, MODEL_LABEL), read(older, VERSION_LABEL)) != (model, version):
            break
        since = _timestamp(older.created_at) or since
    return ServedBy(model, version, alias or ("" if version else DEFAULT_ALIAS), since)


class ModelInvestigator:
    """Looks at an ML service through the registry and the live feature histograms."""

    def __init__(
        self,
        registry: ModelRegistry | None,
        features: FeatureSource | None,
        settings: ModelSettings,
    ) -> None:
        self._registry = registry
        self._features = features
        self._settings = settings

    @property
    def registry(self) -> ModelRegistry | None:
        return self._registry

    @property
    def features(self) -> FeatureSource | None:
        return self._features

    def look(
        self,
        namespace: str,
        service: str,
        rollouts: Sequence[Rollout],
        window: tuple[float, float, float],
        series: Sequence[Series],
        findings: Sequence[Finding],
        time_left: Callable[[], float],
        *,
        measured: Collection[str] = (),
    ) -> ModelLook | None:
        """The look at ``service`` over ``window`` (baseline start, split, end); None when its
        pod template names no model (nothing else is read then). ``measured``: metrics that had
        samples though their ``series`` are not given (the origin's: its quality proxy was
        judged by the detectors, ``findings``, and is not "unmeasured" when not among them)."""
        served = served_by(rollouts)
        if served is None:
            return None
        if any(len(x) > MAX_NAME for x in (served.model, served.version, served.alias)):
            note = messages.MODEL_LABEL_INVALID.format(service=service, label=MODEL_LABEL)
            return ModelLook(service=service, model=served.model[:MAX_NAME], notes=[note])
        quality = self._quality(service, series, findings, window[1])
        look = _Draft(namespace, service, served, quality)
        if quality is None and self._settings.quality_for(service) not in measured:
            look.notes.append(
                messages.MODEL_NO_QUALITY.format(
                    service=service, metric=self._settings.quality_for(service)
                )
            )
        if self._registry is None:
            look.notes.append(
                messages.MODEL_NO_REGISTRY.format(service=service, model=served.model)
            )
            return look.done()
        if time_left() <= 0:
            look.notes.append(messages.MODEL_OUT_OF_TIME.format(what="read the model registry"))
            return look.done()
        try:
            self._read_registry(self._registry, look, window, time_left)
        except (RegistryError, OSError) as exc:  # OSError: an adapter's connection, untranslated
            look.notes.append(
                messages.MODEL_REGISTRY_UNAVAILABLE.format(
                    registry=self._registry.name, model=served.model, why=_cut(str(exc))
                )
            )
        return look.done()

    def _read_registry(
        self,
        registry: ModelRegistry,
        look: _Draft,
        window: tuple[float, float, float],
        time_left: Callable[[], float],
    ) -> None:
        served = look.served
        versions = registry.versions(served.model, limit=20)
        serving: ModelVersion | None = None
        if served.version:
            serving = next((v for v in versions if v.version == served.version), None)
            if serving is None:
                look.notes.append(
                    messages.MODEL_VERSION_UNKNOWN.format(
                        version=served.version, model=served.model, count=len(versions)
                    )
                )
        else:
            serving = registry.alias(served.model, served.alias)
            if serving is None:
                look.notes.append(
                    messages.MODEL_ALIAS_UNSET.format(alias=served.alias, model=served.model)
                )
                return
        if serving is None:
            return
        look.version = serving.version[:MAX_NAME]
        look.description = _cut(serving.description, MAX_TEXT)
        look.metrics = {_cut(k, 100): v for k, v in sorted(serving.metrics.items())[:MAX_METRICS]}
        moved = _tag_time(serving, served.alias) if served.alias else None
        look.since, look.since_from = (moved, "alias") if moved else (served.since, "rollout")
        if look.since is None:
            look.since_from = ""
        earlier = [v for v in versions if _older(v, serving)]
        look.previous = _previous_holder(earlier, served.alias) or (
            earlier[0].version if earlier else ""
        )
        look.changes = _changes(
            versions, serving, look, window[0] - 60.0 * self._settings.registry_lookback_minutes
        )
        if self._features is None:
            return
        if time_left() <= 0:
            look.notes.append(messages.MODEL_OUT_OF_TIME.format(what="read the live features"))
            return
        self._drift(registry, look, serving, earlier, window, time_left)

    def _drift(
        self,
        registry: ModelRegistry,
        look: _Draft,
        serving: ModelVersion,
        earlier: Sequence[ModelVersion],
        window: tuple[float, float, float],
        time_left: Callable[[], float],
    ) -> None:
        """Live inputs (and outputs) against the serving version's training profile, then the
        same features against the earlier versions' profiles."""
        assert self._features is not None
        model = look.served.model
        profile = registry.training_profile(model, serving.version)
        if profile is None:
            look.notes.append(
                messages.MODEL_NO_PROFILE.format(version=serving.version, model=model)
            )
            return
        try:
            live = self._features.feature_histograms(
                look.namespace, look.service, window[1], window[2], time_left=time_left
            )
        except (MetricSourceError, ToolError, HistogramError, OSError) as exc:
            look.notes.append(
                messages.MODEL_FEATURES_UNAVAILABLE.format(service=look.service, why=_cut(str(exc)))
            )
            return
        if not live.features:
            look.notes.append(messages.MODEL_NO_FEATURES.format(service=look.service))
            return
        names = sorted(n for n in live.features if profile.feature(n) is not None)
        most = self._settings.max_features
        if len(names) > most:
            look.notes.append(messages.MODEL_FEATURES_CAPPED.format(count=most, read=len(names)))
            names = names[:most]
        drift, skipped = compare_features(profile, live.features, names)
        look.compared = len(drift)
        look.drift = sorted(drift, key=lambda d: (-d.psi, d.feature))[:MAX_DRIFT]
        look.chart = _chart(profile, live.features, look.drift, serving.version)
        if live.predictions is not None and profile.predictions is not None:
            try:
                look.predictions = feature_drift(
                    "predictions", _histogram(profile.predictions), live.predictions
                )
            except HistogramError as exc:
                skipped.append(str(exc))
        for version in earlier[: self._settings.previous_versions]:
            if time_left() <= 0:
                look.notes.append(
                    messages.MODEL_OUT_OF_TIME.format(what="compare earlier versions")
                )
                break
            before = registry.training_profile(model, version.version)
            if before is None:
                continue
            compared, more = compare_features(before, live.features, names)
            skipped += more
            look.against.append(
                VersionDrift(
                    version.version[:MAX_NAME],
                    len(compared),
                    tuple(d.feature for d in compared if d.drifted),
                )
            )
        if skipped:
            look.notes.append(
                messages.MODEL_FEATURES_SKIPPED.format(count=len(skipped), first=_cut(skipped[0]))
            )

    def _quality(
        self, service: str, series: Sequence[Series], findings: Sequence[Finding], split: float
    ) -> QualityProxy | None:
        """The quality metric as the detectors judged it: fell when they found it down."""
        metric = self._settings.quality_for(service)
        fell = next(
            (f for f in findings if f.metric == metric and f.direction is Direction.DOWN), None
        )
        if fell is not None:
            return QualityProxy(metric, fell.baseline, fell.observed, True)
        values = [s for s in series if s.metric == metric and len(s)]
        if not values:
            return None
        ts = np.concatenate([s.timestamps for s in values])
        vs = np.concatenate([s.values for s in values])
        before, after = vs[ts < split], vs[ts >= split]
        if not before.size or not after.size:
            return None
        return QualityProxy(metric, float(np.median(before)), float(np.median(after)), False)


class _Draft:
    """The look being filled in (a ModelLook is frozen once done)."""

    def __init__(
        self, namespace: str, service: str, served: ServedBy, quality: QualityProxy | None
    ) -> None:
        self.namespace = namespace
        self.service = service
        self.served = served
        self.quality = quality
        self.version = served.version[:MAX_NAME]
        self.since, self.since_from = served.since, "rollout" if served.since else ""
        self.previous = ""
        self.description = ""
        self.metrics: dict[str, float] = {}
        self.changes: list[RegistryChange] = []
        self.compared = 0
        self.drift: list[FeatureDrift] = []
        self.against: list[VersionDrift] = []
        self.predictions: FeatureDrift | None = None
        self.chart: DriftChart | None = None
        self.notes: list[str] = []

    def done(self) -> ModelLook:
        return ModelLook(
            service=self.service,
            model=self.served.model,
            alias=self.served.alias,
            version=self.version,
            since=self.since,
            since_from=self.since_from,  # type: ignore[arg-type]
            previous=self.previous,
            description=self.description,
            metrics=self.metrics,
            changes=self.changes,
            compared=self.compared,
            drift=self.drift,
            against=self.against,
            predictions=self.predictions,
            quality=self.quality,
            chart=self.chart,
            notes=self.notes,
        )


def compare_features(
    profile: TrainingProfile, live: dict[str, Histogram], names: Sequence[str]
) -> tuple[list[FeatureDrift], list[str]]:
    """Each named feature's drift against ``profile``; what could not be compared, and why."""
    drift, skipped = [], []
    for name in names:
        reference = profile.feature(name)
        if reference is None:
            continue
        try:
            drift.append(feature_drift(name[:MAX_NAME], _histogram(reference), live[name]))
        except HistogramError as exc:
            skipped.append(str(exc))
    return drift, skipped


def _histogram(h: FeatureHistogram) -> Histogram:
    """A registry's histogram as the detectors' (the same edges and counts)."""
    return Histogram(tuple(h.edges), tuple(h.counts))


def _chart(
    profile: TrainingProfile,
    live: dict[str, Histogram],
    drift: Sequence[FeatureDrift],
    version: str,
) -> DriftChart | None:
    """The most drifted feature's training and live shares, when one drifted."""
    top = next((d for d in drift if d.drifted), None)
    reference = profile.feature(top.feature) if top else None
    if top is None or reference is None or top.feature not in live:
        return None
    ref = checked(_histogram(reference), top.feature)
    now = checked(live[top.feature], top.feature)
    edges = common_edges(ref, now)
    training, current = rebinned(ref, edges), rebinned(now, edges)
    return DriftChart(
        feature=top.feature,
        version=version[:MAX_NAME],
        edges=tuple(edges.tolist()),
        training=tuple((training / max(training.sum(), 1e-12)).round(6).tolist()),
        live=tuple((current / max(current.sum(), 1e-12)).round(6).tolist()),
    )


def _older(version: ModelVersion, than: ModelVersion) -> bool:
    if version.version.isdigit() and than.version.isdigit():
        return int(version.version) < int(than.version)
    return version.created_at < than.created_at


def _tag_time(version: ModelVersion, alias: str) -> float | None:
    return _timestamp(version.tags.get(since_tag(alias), ""))


def _previous_holder(earlier: Sequence[ModelVersion], alias: str) -> str:
    """The earlier version the alias named last (the newest ``since`` tag among them)."""
    if not alias:
        return ""
    held = [(at, v.version) for v in earlier if (at := _tag_time(v, alias)) is not None]
    return max(held)[1][:MAX_NAME] if held else ""


def _changes(
    versions: Sequence[ModelVersion], serving: ModelVersion, look: _Draft, since: float
) -> list[RegistryChange]:
    """The alias's move to the serving version and the versions registered after ``since``."""
    changes = []
    if look.since_from == "alias" and look.since is not None and look.since >= since:
        changes.append(RegistryChange("alias", look.version, look.since, look.previous))
    for v in versions:
        at = v.created_at.timestamp()
        if at >= since:
            changes.append(RegistryChange("version", v.version[:MAX_NAME], at))
    return sorted(changes, key=lambda c: -c.at)[:MAX_DRIFT]


def _timestamp(text: str) -> float | None:
    """Epoch seconds from a tag or rollout time: a number, or ISO 8601 (UTC when naive)."""
    text = text.strip()[:64]
    if not text:
        return None
    try:
        value = float(text)
        return value if np.isfinite(value) else None
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _cut(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
