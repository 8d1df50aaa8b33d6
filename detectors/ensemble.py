"""The ensemble: several detectors, each calibrated to a surprise (-log10 p), combined per point.

Which detectors take part and how much each counts is configuration (``EnsembleConfig``), not
code. A member's surprise is multiplied by its weight; a member may be ``explained_by`` another
(rarity explained by the seasonal baseline: a value normal for this time of day is not rare);
the combined surprise is the largest weighted one, less log10 of the number of voting members
(a Bonferroni correction, so more members do not mean more false alarms). It is scored in [0, 1]
(``surprise_score``).

In streaming use the learning period sets the time scale: the Bonferroni correction also counts
the learning period in units of ``reference_points`` (a series judged on a ten times longer scale
has ten times more chances of a false alarm, so it must be ten times rarer to score the same);
only a point that beats every score of the previous ``suppression`` x learning-period points
opens an alarm (causal non-maximum suppression: one alarm per event, not one per point of it);
and the alarm is held for ``grouping`` x learning-period points, then reports the largest score
of the points it held (one alarm for an event that builds up over a few points, as Alertmanager's
``group_wait`` groups the alerts of one incident).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from detectors.calibration import TailCalibrator, surprise_score
from detectors.changepoint import Cusum
from detectors.detector import PointDetector
from detectors.discord import Discord
from detectors.errors import DetectorConfigError
from detectors.rarity import ValueRarity
from detectors.robust import RollingRobustZ
from detectors.seasonal import SeasonalGap
from detectors.series import FloatArray
from detectors.smoothing import HoltResidual

DETECTORS: dict[str, Callable[..., PointDetector]] = {
    "rarity": ValueRarity,
    "robust_z": RollingRobustZ,
    "holt": HoltResidual,
    "seasonal": SeasonalGap,
    "cusum": Cusum,
    "discord": Discord,
}
MULTIVARIATE = "isolation_forest"  # fitted over all of a service's metrics together (alerts only)


@dataclass(frozen=True)
class Member:
    detector: str
    weight: float = 1.0
    explained_by: str | None = None
    params: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EnsembleConfig:
    members: tuple[Member, ...]
    history: int = 8640  # points each calibrator remembers
    tail: float = 0.05  # fraction of the history treated as the tail (peaks over threshold)
    suppression: float = 0.4  # non-maximum suppression window, as a fraction of the learning period
    grouping: float = 0.01  # streaming: an alarm is held this fraction of the learning period
    reference_points: int = 1000  # streaming: learning periods are counted in units of this
    period_correction: float = 1.0  # exponent of that count in the correction (0: none)

    def __post_init__(self) -> None:
        names = [m.detector for m in self.members]
        for member in self.members:
            known = member.detector in DETECTORS or member.detector == MULTIVARIATE
            if not known:
                raise DetectorConfigError(
                    f"unknown detector {member.detector!r} "
                    f"(known: {', '.join([*DETECTORS, MULTIVARIATE])})"
                )
            if not (member.weight >= 0 and math.isfinite(member.weight)):
                raise DetectorConfigError(f"detector {member.detector}: weight must be >= 0")
            if member.explained_by is not None and member.explained_by not in names:
                raise DetectorConfigError(
                    f"detector {member.detector}: explained_by {member.explained_by!r} "
                    "is not a member of the ensemble"
                )
        if len(set(names)) != len(names):
            raise DetectorConfigError("each detector may appear in the ensemble only once")
        if not any(m.weight > 0 for m in self.members):
            raise DetectorConfigError("the ensemble needs at least one member with weight > 0")
        if not (
            0 < self.tail < 0.5
            and self.history >= 30
            and self.suppression >= 0
            and self.grouping >= 0
            and self.reference_points >= 1
            and self.period_correction >= 0
        ):
            raise DetectorConfigError(
                "ensemble needs 0 < tail < 0.5, history >= 30, suppression >= 0, "
                "grouping >= 0, reference_points >= 1, period_correction >= 0"
            )

    @property
    def univariate(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.detector != MULTIVARIATE)

    def only(self, detector: str) -> EnsembleConfig:
        """The same settings with a single member: to score one detector on its own."""
        params = next((m.params for m in self.members if m.detector == detector), {})
        return replace(self, members=(Member(detector, params=params),), suppression=1.0)


DEFAULT_ENSEMBLE = EnsembleConfig(
    members=(
        Member("rarity", explained_by="seasonal"),
        Member("discord"),
        Member("seasonal", weight=0.3),
        Member("robust_z", weight=0.3),
        Member("holt", weight=0.3),
        Member("cusum", weight=0.3),
        Member(MULTIVARIATE, weight=0.3),
    )
)


def build_detector(member: Member) -> PointDetector:
    try:
        return DETECTORS[member.detector](**member.params)
    except (TypeError, ValueError) as exc:
        raise DetectorConfigError(f"detector {member.detector}: bad parameters ({exc})") from exc


def combine(
    surprises: Mapping[str, float], members: tuple[Member, ...], multiplicity: float = 1.0
) -> float:
    """Weighted, explained-away, Bonferroni-corrected maximum of the members' surprises; the
    correction counts the voters times ``multiplicity`` (further chances of a false alarm)."""
    best = 0.0
    voters = 0
    for m in members:
        if m.weight <= 0:
            continue
        voters += 1
        surprise = surprises.get(m.detector, math.nan)
        if m.explained_by is not None:
            explanation = surprises.get(m.explained_by, math.nan)
            if not math.isnan(explanation):
                surprise = min(surprise, explanation)
        best = max(best, surprise * m.weight)
    return max(best - math.log10(max(voters, 1) * multiplicity), 0.0)


class CausalSuppressor:
    """Keeps a score only when it beats every raw score of the previous ``window`` points
    (monotonic deque: O(1) amortised per point)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._index = 0
        self._maxima: deque[tuple[int, float]] = deque()

    def update(self, score: float) -> float:
        while self._maxima and self._maxima[0][0] < self._index - self.window:
            self._maxima.popleft()
        previous = self._maxima[0][1] if self._maxima else -math.inf
        kept = score if score > previous else 0.0
        if self.window > 0:
            while self._maxima and self._maxima[-1][1] <= score:
                self._maxima.pop()
            self._maxima.append((self._index, score))
        self._index += 1
        return kept


class AlarmGroup:
    """Holds an alarm for ``hold`` points and then reports the largest score seen meanwhile;
    alarms raised while one is held belong to it. ``hold`` 0 reports every alarm at once."""

    def __init__(self, hold: int) -> None:
        self.hold = hold
        self._left = -1  # points still to hold; -1 when no alarm is held
        self._best = 0.0

    def update(self, alarm: float, score: float) -> float:
        """``alarm``: the suppressed score of this point (0: no alarm); ``score``: its raw score."""
        if self._left < 0:
            if alarm <= 0:
                return 0.0
            self._left, self._best = self.hold, alarm
        else:
            self._left -= 1
            self._best = max(self._best, score)
        if self._left > 0:
            return 0.0
        self._left = -1
        return self._best


class StreamingEnsemble:
    """Scores a series one point at a time: learn for ``learning_points`` points (scores 0),
    then report suppressed, grouped scores in [0, 1]. Non-finite points score 0 and are not
    learnt."""

    def __init__(self, config: EnsembleConfig, learning_points: int) -> None:
        self.config = config
        self.learning_points = learning_points
        members = config.univariate
        self._members = members
        self._detectors = [build_detector(m) for m in members]
        self._calibrators = [
            TailCalibrator(d.sides, history=config.history, tail=config.tail)
            for d in self._detectors
        ]
        periods = max(learning_points, 1) / config.reference_points
        self._multiplicity = periods**config.period_correction
        self._suppressor = CausalSuppressor(int(config.suppression * learning_points))
        self._group = AlarmGroup(round(config.grouping * learning_points))
        self._seen = 0

    def update(self, t: float, x: float) -> float:
        if not (math.isfinite(t) and math.isfinite(x)):
            return 0.0
        surprises = {}
        for member, detector, calibrator in zip(
            self._members, self._detectors, self._calibrators, strict=True
        ):
            statistic = detector.update(t, x)
            surprises[member.detector] = (
                calibrator.update(statistic) if math.isfinite(statistic) else math.nan
            )
        score = float(surprise_score(combine(surprises, self._members, self._multiplicity)))
        if self._seen < self.learning_points:
            score = 0.0
        self._seen += 1
        return self._group.update(self._suppressor.update(score), score)


def score_series(
    config: EnsembleConfig, timestamps: FloatArray, values: FloatArray, learning_points: int
) -> FloatArray:
    """Streaming scores for a whole series (the NAB evaluation's entry point)."""
    ensemble = StreamingEnsemble(config, learning_points)
    update = ensemble.update
    return np.fromiter(
        (update(t, x) for t, x in zip(timestamps.tolist(), values.tolist(), strict=True)),
        dtype=np.float64,
        count=len(values),
    )
