"""What the look at an ML service found (:mod:`bot.diagnosis.model`), as plain values: the
serving version and since when, the registry's changes, the drift of each feature against the
serving and earlier versions' training data, the quality proxy, the chart's data and the notes.
Kept with the diagnosis (``Investigation.model``) and shown by :mod:`bot.model_views`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from detectors.histogram_drift import FeatureDrift


def since_tag(alias: str) -> str:
    """The version tag the registry adapter writes when ``alias`` moves to the version."""
    return f"medic.alias.{alias}.since"


@dataclass(frozen=True)
class RegistryChange:
    """What changed in the registry in (or just before) the window."""

    kind: Literal["alias", "version"]
    version: str
    at: float
    previous: str = ""  # the version the alias named before ('' when unknown or none)


@dataclass(frozen=True)
class QualityProxy:
    """The service's quality metric (higher is better) in the window against its history."""

    metric: str
    baseline: float
    observed: float
    fell: bool


@dataclass(frozen=True)
class VersionDrift:
    """The live inputs against one earlier version's training data."""

    version: str
    compared: int
    drifted: tuple[str, ...]


@dataclass(frozen=True)
class DriftChart:
    """The most drifted feature's training and live shares over the bins both resolve (with an
    overflow bin below and above the training range), for the thread's chart."""

    feature: str
    version: str
    edges: tuple[float, ...]  # within the training range (detectors.histogram_drift)
    training: tuple[float, ...]  # len(edges) + 1 shares: below, each bin, above
    live: tuple[float, ...]


@dataclass(frozen=True)
class ModelLook:
    """What the look at one ML service found; notes say what could not be read."""

    service: str
    model: str
    alias: str = ""
    version: str = ""  # the serving version; '' when it could not be told
    since: float | None = None
    since_from: Literal["alias", "rollout", ""] = ""
    previous: str = ""  # the version before the serving one (the alias's previous holder)
    description: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    changes: list[RegistryChange] = field(default_factory=list)
    compared: int = 0  # features compared with the serving version's training data
    drift: list[FeatureDrift] = field(default_factory=list)  # most moved first
    against: list[VersionDrift] = field(default_factory=list)  # earlier versions
    predictions: FeatureDrift | None = None
    quality: QualityProxy | None = None
    chart: DriftChart | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [d for d in self.drift if d.drifted]

    @property
    def data_changed(self) -> bool:
        """Drifted against the serving version's training data and every earlier one read."""
        return bool(self.drifted) and all(v.drifted for v in self.against if v.compared)

    @property
    def alias_move(self) -> RegistryChange | None:
        """The alias's move to the serving version, when it was in or just before the window."""
        return next((c for c in self.changes if c.kind == "alias"), None)
