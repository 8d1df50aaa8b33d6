"""The simulated shop's ML model: ``recommender-ranker``, served by ``shop/recommender``.

Pure functions of time, like the rest of the simulator. Four input features arrive with a live
distribution each (normal, binned on fixed edges - the bins of the training profiles and of the
live histograms, so the two compare bin by bin); a *data shift* (a scenario's) moves three of
them. Each version was trained on a window of that traffic: its training profile is the live
histograms over the window. The alias ``champion`` names the version served at each moment
(scenario moves, then ``promote_model`` and finished retraining runs).

The quality proxy, click-through, follows the served version's own quality times how well the
live inputs match its training data (``1 / (1 + K * mean PSI)``): a shift hurts every version
trained before it, a retrain on recent data heals it, and a worse version hurts with normal
inputs. A retrain reruns the pipeline that produced the latest version, with that pipeline's
quality: when the pipeline itself regressed, retraining gives another bad version.
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from detectors.features import FeatureWindow, Histogram
from tools.registry.base import ALIAS_LABEL, MODEL_LABEL, FeatureHistogram, TrainingProfile
from tools.sim.scenarios import Scenario

FloatArray = npt.NDArray[np.float64]

MODEL = "recommender-ranker"
SERVICE = "recommender"
ALIAS = "champion"
DAY = 86400.0
MINUTE = 60.0
REQUESTS_PER_SECOND = 120.0  # the recommender's request rate (tools/sim/scenarios.py)
SHIFT_RAMP = 300.0  # seconds for a data shift to take full effect
MISMATCH_COST = 0.25  # K in 1 / (1 + K * mean PSI)
TRAIN_MINUTES = 2.0  # how long a simulated training run takes
TRAIN_WINDOW = 15 * MINUTE  # the "recent data" a retrain learns from
TRAIN_COST = "about 0.4 GPU-hours on the training pool (simulated)"


@dataclass(frozen=True)
class Feature:
    """One input's live distribution (normal with ``mean``, ``sd``), its bins, and how far its
    mean moves under a full data shift."""

    name: str
    mean: float
    sd: float
    lo: float
    hi: float
    bins: int
    shift: float

    @property
    def edges(self) -> tuple[float, ...]:
        step = (self.hi - self.lo) / self.bins
        return tuple(round(self.lo + i * step, 6) for i in range(self.bins + 1))


FEATURES: tuple[Feature, ...] = (
    Feature("basket_value", 60.0, 25.0, 0.0, 200.0, 20, 70.0),
    Feature("session_length", 12.0, 5.0, 0.0, 40.0, 20, -6.0),
    Feature("items_viewed", 18.0, 7.0, 0.0, 60.0, 20, 12.0),
    Feature("hour_of_day", 14.0, 5.0, 0.0, 24.0, 24, 0.0),
)
# The scores the model outputs: their mean moves with the gap between live and training inputs.
PREDICTION = Feature("prediction", 0.35, 0.12, 0.0, 1.0, 20, 0.25)


@dataclass(frozen=True)
class SeedVersion:
    """A version the registry holds when the shop starts: trained on days ``[start, end)``
    before the start (negative offsets), with its offline metrics and its online ``quality``
    (click-through relative to normal on the data it was trained for)."""

    trained_from_days: float
    trained_to_days: float
    quality: float
    auc: float
    ndcg_at_10: float
    note: str = "weekly CT"
    extra_latency_ms: float = 0.0  # added to every request while it serves (a slower model)


SEED: tuple[SeedVersion, ...] = (
    SeedVersion(-27, -20, 0.94, 0.712, 0.381),
    SeedVersion(-20, -13, 0.97, 0.724, 0.394),
    SeedVersion(-13, -6, 1.0, 0.731, 0.402),
)


@dataclass(frozen=True)
class ModelPlay:
    """What happens to the model in a scenario (``Scenario.extra["model"]``): the versions at
    the start (``SEED`` and ``extra``), when the alias moved (offset seconds, version), a data
    shift (offset, size: 1 = the features' full ``shift``), and the quality of the versions the
    training pipeline produces now."""

    extra: tuple[SeedVersion, ...] = ()
    moves: tuple[tuple[float, str], ...] = ((-6 * DAY, "3"),)
    data_shift: tuple[float, float] | None = None
    pipeline_quality: float = 1.0

    @property
    def seed(self) -> tuple[SeedVersion, ...]:
        return (*SEED, *self.extra)


@dataclass
class VersionSpec:
    """One version as the shop knows it: its training window (Unix seconds) and quality."""

    version: str
    start: float
    end: float
    quality: float
    metrics: dict[str, float] = field(default_factory=dict)
    note: str = ""
    extra_latency_ms: float = 0.0


def _noise(key: str) -> float:
    """Deterministic noise in [-1, 1) per key."""
    return (zlib.crc32(key.encode()) % 20_000) / 10_000.0 - 1.0


@lru_cache(maxsize=4096)
def _probs(feature: Feature, mean_shift: float) -> tuple[float, ...]:
    """The share of inputs in each bin (the outer bins take the tails)."""
    edges = feature.edges
    mean = feature.mean + mean_shift

    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf((x - mean) / (feature.sd * math.sqrt(2))))

    inner = [cdf(b) - cdf(a) for a, b in itertools.pairwise(edges[1:-1])]
    first, last = cdf(edges[1]), 1 - cdf(edges[-2])
    return (first, *inner, last)


def psi(expected: tuple[float, ...], actual: tuple[float, ...]) -> float:
    """Population stability index of two distributions over the same bins."""
    e = np.maximum(np.array(expected) / max(sum(expected), 1e-12), 1e-4)
    a = np.maximum(np.array(actual) / max(sum(actual), 1e-12), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def shop_model_for(scenario: Scenario, anchor: float) -> ShopModel | None:
    """The model of the scenario's service whose pod template names ``recommender-ranker``
    (``medic.io/model``), played as ``scenario.extra["model"]`` says (default: nothing
    happens to it)."""
    for profile in scenario.services:
        if profile.template_labels.get(MODEL_LABEL) == MODEL:
            play = scenario.extra.get("model", ModelPlay())
            if not isinstance(play, ModelPlay):
                raise TypeError(f"scenario {scenario.name}: extra['model'] is not a ModelPlay")
            alias = profile.template_labels.get(ALIAS_LABEL, ALIAS)
            return ShopModel(play, anchor, service=profile.name, alias=alias)
    return None


class ShopModel:
    """The model's versions, which one serves when, and the live inputs over time."""

    def __init__(
        self, play: ModelPlay, anchor: float, *, service: str = SERVICE, alias: str = ALIAS
    ) -> None:
        self.name = MODEL
        self.service = service
        self.alias = alias
        self.play = play
        self.anchor = anchor
        self.versions: dict[str, VersionSpec] = {}
        for number, seed in enumerate(play.seed, start=1):
            metrics = {"auc": seed.auc, "ndcg_at_10": seed.ndcg_at_10}
            self.versions[str(number)] = VersionSpec(
                str(number),
                anchor + seed.trained_from_days * DAY,
                anchor + seed.trained_to_days * DAY,
                seed.quality,
                metrics,
                seed.note,
                seed.extra_latency_ms,
            )
        self.moves: list[tuple[float, str]] = sorted((anchor + t, v) for t, v in play.moves)

    # --- the inputs ------------------------------------------------------------------------------
    def shift_level(self, ts: FloatArray) -> FloatArray:
        """How far the data has shifted at each time (0 = as before; 1 = the full shift)."""
        if self.play.data_shift is None:
            return np.zeros_like(ts)
        offset, size = self.play.data_shift
        onset = self.anchor + offset
        return np.asarray(size * np.clip((ts - onset) / SHIFT_RAMP, 0.0, 1.0), dtype=np.float64)

    def _levels(self, start: float, end: float) -> list[tuple[float, float]]:
        """(shift level, seconds at it) over ``[start, end)``, levels rounded to 0.05."""
        if end <= start:
            return []
        step = max(15.0, (end - start) / 600)
        ts = np.arange(start, end, step, dtype=np.float64)
        levels = np.round(self.shift_level(ts) * 20) / 20
        weights = np.full_like(ts, step)
        weights[-1] = end - ts[-1]
        out: dict[float, float] = {}
        for level, weight in zip(levels.tolist(), weights.tolist(), strict=True):
            out[level] = out.get(level, 0.0) + weight
        return sorted(out.items())

    def _counts(self, feature: Feature, start: float, end: float, gap: float = 0.0) -> Histogram:
        """Requests per bin over the window; ``gap`` moves the mean further (predictions)."""
        counts = np.zeros(feature.bins)
        for level, seconds in self._levels(start, end):
            shift = feature.shift * (abs(level - gap) if feature is PREDICTION else level)
            counts += np.array(_probs(feature, round(shift, 4))) * REQUESTS_PER_SECOND * seconds
        window = f"{feature.name}/{start // 60:.0f}/{end // 60:.0f}"
        noise = np.array([1 + 0.02 * _noise(f"{window}/{i}") for i in range(feature.bins)])
        return Histogram(edges=feature.edges, counts=tuple(float(c) for c in counts * noise))

    def window(self, start: float, end: float) -> FeatureWindow:
        """The live inputs and predictions over ``[start, end)``."""
        features = {f.name: self._counts(f, start, end) for f in FEATURES}
        serving = self.serving_at(end - 1.0) if end > start else None
        trained = self._trained_level(serving) if serving else 0.0
        predictions = self._counts(PREDICTION, start, end, gap=trained) if end > start else None
        return FeatureWindow(features=features, predictions=predictions)

    # --- the versions ----------------------------------------------------------------------------
    def profile(self, version: str) -> TrainingProfile:
        """What ``version`` was trained on: the live histograms over its training window."""
        spec = self.versions[version]
        features = tuple(
            FeatureHistogram(f.name, h.edges, h.counts)
            for f in FEATURES
            for h in (self._counts(f, spec.start, spec.end),)
        )
        level = self._trained_level(spec)
        predictions = self._counts(PREDICTION, spec.start, spec.end, gap=level)
        return TrainingProfile(
            features, FeatureHistogram("prediction", predictions.edges, predictions.counts)
        )

    def _trained_level(self, spec: VersionSpec) -> float:
        levels = self._levels(spec.start, spec.end)
        total = sum(seconds for _, seconds in levels) or 1.0
        return sum(level * seconds for level, seconds in levels) / total

    def serving_at(self, t: float) -> VersionSpec | None:
        current = None
        for when, version in self.moves:
            if when <= t:
                current = version
        return self.versions.get(current) if current else None

    def move(self, at: float, version: str) -> None:
        """The alias names ``version`` from ``at`` on (promote_model, or a finished retrain)."""
        self.moves = sorted([*self.moves, (at, version)])

    def train(self, now: float) -> VersionSpec:
        """A new version trained on the last TRAIN_WINDOW of traffic by the current pipeline;
        it serves once the run ends, TRAIN_MINUTES from ``now``."""
        number = str(max(int(v) for v in self.versions) + 1)
        start = now - TRAIN_WINDOW
        quality = self.play.pipeline_quality
        spec = VersionSpec(
            number,
            start,
            now,
            quality,
            {"auc": round(0.70 + 0.03 * quality, 3), "ndcg_at_10": round(0.37 + 0.03 * quality, 3)},
            "retrain on recent data",
        )
        self.versions[number] = spec
        self.move(now + TRAIN_MINUTES * MINUTE, number)
        return spec

    def extra_latency(self, ts: FloatArray) -> FloatArray:
        """Milliseconds the serving version adds to every request at each time (0 for all but
        a slower version: ``SeedVersion.extra_latency_ms``)."""
        out = np.zeros_like(ts)
        if not any(v.extra_latency_ms for v in self.versions.values()):
            return out
        for i, t in enumerate(ts.tolist()):
            spec = self.serving_at(t)
            out[i] = spec.extra_latency_ms if spec is not None else 0.0
        return out

    # --- the quality proxy -----------------------------------------------------------------------
    def quality(self, ts: FloatArray) -> FloatArray:
        """Click-through relative to normal at each time: the served version's quality times
        how well the live inputs match its training data."""
        out = np.ones_like(ts)
        levels = np.round(self.shift_level(ts) * 20) / 20
        for i, t in enumerate(ts.tolist()):
            spec = self.serving_at(t)
            if spec is not None:
                out[i] = spec.quality * self._match(spec.version, float(levels[i]))
        return out

    @lru_cache(maxsize=1024)  # noqa: B019 - one shop per simulated cluster, a few keys each
    def _match(self, version: str, level: float) -> float:
        spec = self.versions[version]
        trained = {f.name: self._counts(f, spec.start, spec.end).counts for f in FEATURES}
        gaps = [psi(trained[f.name], _probs(f, round(f.shift * level, 4))) for f in FEATURES]
        return 1.0 / (1.0 + MISMATCH_COST * float(np.mean(gaps)))
