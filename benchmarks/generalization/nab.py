"""NAB under the generalisation protocol: which detector configuration, scored on categories that
chose nothing.

Groups are NAB's seven categories of the development split. A method is one detector
configuration whose ``fit`` picks each profile's one threshold on the training files exactly as
NAB does, and whose outcome per file is its raw tally (raw score, null, perfect), pooled as NAB
normalises: the sums over the files give 100 * (raw - null) / (perfect - null). So a method alone
is scored by leave-one-category-out with thresholds chosen on the other categories - the way the
held-out half is scored with the dev split's thresholds.

Scoring a configuration is the slow part, so each member's calibrated surprises are computed once
per file (in worker processes) and every configuration is replayed from them
(``detectors.ensemble.alarm_scores``, the same arithmetic as streaming); thresholds are then cheap
to refit per fold.

Two stress views reproduce what the held-out half showed (about twice as many false-positive rows
as true-positive ones, on series with level shifts and trends) with the development files only:
``shifted_view`` raises each file by its own spread from a point in its longest unlabelled
stretch on and labels that onset as an anomaly window (the shift is an anomaly, what follows is
the new normal); ``trending_view`` adds a ramp of the file's spread over its scored rows, with no
new window (a slow trend is not an event). Leaving a category out of the untouched files does not
reproduce that failure; these views do (docs/benchmarks.md, "NAB detectors").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.generalization.protocol import Claim, compare, nested
from detectors import DEFAULT_ENSEMBLE, EnsembleConfig, Member
from detectors.bocpd import gated, normal_gamma_prior, run_predictions
from detectors.calibration import surprise_score
from detectors.ensemble import (
    MULTIVARIATE,
    AlarmGroup,
    CausalSuppressor,
    alarm_scores,
    combine_surprises,
    member_surprises,
)
from detectors.evaluation import NabFile, Profile, load_corpus
from detectors.evaluation.baselines import windowed_gaussian_scores
from detectors.evaluation.scorer import score_file, scored_windows, threshold_for
from detectors.series import FloatArray
from detectors.spot import drift_removed, spot_surprises

JOBS = 2  # the machine's cores; members are streamed file by file in worker processes
GROUPS = "category"

MemberKey = tuple[str, tuple[tuple[str, float], ...], int, float]


@dataclass(frozen=True)
class Tally:
    """One file's part of a NAB score: its raw total and what null and perfect would get."""

    raw: float
    null: float
    perfect: float


def nab_score(tallies: Sequence[Tally]) -> float:
    """NAB's normalisation of pooled files: 100 * (raw - null) / (perfect - null)."""
    raw = math.fsum(t.raw for t in tallies)
    null = math.fsum(t.null for t in tallies)
    perfect = math.fsum(t.perfect for t in tallies)
    return 100.0 * (raw - null) / (perfect - null) if perfect > null else 0.0


@dataclass(frozen=True)
class Thresholded:
    """A detector's per-file scores; ``fit`` is NAB's one threshold for ``profile`` on the
    training files, ``outcomes`` the test files' tallies at that threshold."""

    name: str
    scores: Mapping[str, FloatArray]
    profile: Profile

    def fit(self, train: Sequence[NabFile]) -> float:
        return threshold_for(train, self.scores, self.profile)

    def outcomes(self, fitted: float, test: Sequence[NabFile]) -> list[Tally]:
        p = self.profile
        return [
            Tally(
                raw=score_file(f, self.scores[f.name], p, fitted).score,
                null=-p.fn_weight * scored_windows(f),
                perfect=p.tp_weight * len(f.windows),
            )
            for f in test
        ]


def spread(values: FloatArray) -> float:
    """The width of the central 90 % of the values: the file's own unit for a shift or a trend."""
    finite = values[np.isfinite(values)]
    width = float(np.quantile(finite, 0.95) - np.quantile(finite, 0.05)) if finite.size else 0.0
    return width if width > 0 else max(abs(float(np.median(finite))) * 0.1, 1.0)


def unlabelled_stretches(file: NabFile) -> list[tuple[int, int]]:
    """The scored row ranges [start, end) outside every anomaly window."""
    out, start = [], file.probation
    for left, right in file.windows:
        if left > start:
            out.append((start, left))
        start = max(start, right + 1)
    if len(file) > start:
        out.append((start, len(file)))
    return out


def _renamed(file: NabFile, prefix: str) -> str:
    category, name = file.name.split("/", 1)
    return f"{category}/{prefix}_{name}"


def shifted_view(file: NabFile) -> NabFile:
    """The file raised by its learning period's spread from a third into its longest unlabelled
    stretch on; the onset gets a window as wide as NAB's (10 % of the file shared by the
    windows), centred on it as NAB centres its windows."""
    n = len(file)
    width = max(int(0.1 * n / (len(file.windows) + 1)), 2)
    start, end = max(unlabelled_stretches(file), key=lambda stretch: stretch[1] - stretch[0])
    onset = max(start + (end - start) // 3, start + width // 2 + 1)
    values = file.values.copy()
    values[onset:] += spread(file.values[: file.probation])
    window = (onset - width // 2, min(onset + width - width // 2 - 1, n - 1))
    windows = tuple(sorted((*file.windows, window)))
    return replace(file, name=_renamed(file, "shifted"), values=values, windows=windows)


def trending_view(file: NabFile) -> NabFile:
    """The file plus a ramp from 0 at the end of its learning period to its learning period's
    spread at its last row; windows unchanged."""
    n, start = len(file), file.probation
    ramp = np.clip((np.arange(n) - start) / max(n - 1 - start, 1), 0.0, None)
    values = file.values + spread(file.values[:start]) * ramp
    return replace(file, name=_renamed(file, "trending"), values=values)


VIEWS: dict[str, Callable[[NabFile], NabFile]] = {
    "shifted": shifted_view,
    "trending": trending_view,
}


def member_key(member: Member, config: EnsembleConfig) -> MemberKey:
    """What a member's surprises depend on: its detector, parameters and calibrator."""
    return (member.detector, tuple(sorted(member.params.items())), config.history, config.tail)


def _surprises_of_file(
    task: tuple[NabFile, list[tuple[Member, EnsembleConfig]]],
) -> tuple[str, dict[MemberKey, FloatArray]]:
    file, members = task
    with threadpool_limits(limits=1, user_api="blas"):
        return file.name, {
            member_key(m, c): member_surprises(m, c, file.epoch, file.values) for m, c in members
        }


class SurpriseCache:
    """Every member's surprises on every file, computed once; configurations replay them."""

    def __init__(self, files: Sequence[NabFile]) -> None:
        self.files = tuple(files)
        self._cache: dict[str, dict[MemberKey, FloatArray]] = {f.name: {} for f in files}
        self._replayed: dict[str, dict[str, FloatArray]] = {}

    def prepare(self, configs: Sequence[EnsembleConfig]) -> None:
        """Compute, in parallel over files, the members these configurations need."""
        needed: dict[MemberKey, tuple[Member, EnsembleConfig]] = {}
        for config in configs:
            for m in config.univariate:
                key = member_key(m, config)
                if key not in self._cache[self.files[0].name]:
                    needed.setdefault(key, (m, config))
        if not needed:
            return
        tasks = [(f, list(needed.values())) for f in sorted(self.files, key=len, reverse=True)]
        with ProcessPoolExecutor(max_workers=JOBS) as pool:
            for name, found in pool.map(_surprises_of_file, tasks):
                self._cache[name].update(found)

    def scores(self, config: EnsembleConfig) -> dict[str, FloatArray]:
        """The configuration's NAB scores on every file, replayed from cached surprises."""
        key = repr(config)
        if key not in self._replayed:
            self._replayed[key] = self._replay(config)
        return self._replayed[key]

    def surprises(self, name: str, config: EnsembleConfig) -> dict[str, FloatArray]:
        """The members' surprises on one file (``prepare`` first)."""
        cached = self._cache[name]
        return {m.detector: cached[member_key(m, config)] for m in config.univariate}

    def _replay(self, config: EnsembleConfig) -> dict[str, FloatArray]:
        self.prepare([config])
        out = {}
        for f in self.files:
            surprises = self.surprises(f.name, config)
            valid = np.isfinite(f.epoch) & np.isfinite(f.values)
            out[f.name] = alarm_scores(config, surprises, valid, f.probation)
        return out


def without_member(config: EnsembleConfig, detector: str) -> EnsembleConfig:
    """The ensemble without one member (members it explained are no longer explained)."""
    members = tuple(
        replace(m, explained_by=None) if m.explained_by == detector else m
        for m in config.members
        if m.detector != detector
    )
    return replace(config, members=members)


def with_weight(config: EnsembleConfig, detector: str, weight: float) -> EnsembleConfig:
    members = tuple(
        replace(m, weight=weight) if m.detector == detector else m for m in config.members
    )
    return replace(config, members=members)


def components(default: EnsembleConfig) -> dict[str, EnsembleConfig]:
    """The default's components, each as the default without it (name -> configuration)."""
    out = {
        f"member {m.detector}": without_member(default, m.detector)
        for m in default.univariate
        if m.weight > 0
    }
    if any(m.explained_by for m in default.members):
        out["seasonal explains rarity"] = replace(
            default, members=tuple(replace(m, explained_by=None) for m in default.members)
        )
    if any(m.detector == "seasonal" and m.weight > 0 for m in default.members):
        out["seasonal votes"] = with_weight(default, "seasonal", 0.0)
    out["alarm grouping"] = replace(default, grouping=0.0)
    out["learning-period correction"] = replace(default, period_correction=0.0)
    out["recurrence discount"] = replace(default, recurrence=False)
    return out


# The default of issue 3, chosen on the whole development split: the starting point.
ISSUE_3 = EnsembleConfig(
    members=(
        Member("rarity", explained_by="seasonal"),
        Member("discord"),
        Member("seasonal", weight=0.3),
        Member("robust_z", weight=0.3),
        Member("holt", weight=0.3),
        Member("cusum", weight=0.3),
        Member(MULTIVARIATE, weight=0.3),
    ),
    recurrence=False,
)


EXPONENTS = (1.0, 0.5, 1.5, 2.0, 2.5, 3.0)  # the learning-period correction's, issue 3's first


def steps() -> list[tuple[str, EnsembleConfig, EnsembleConfig]]:
    """The changes tried from issue 3's default, in order: (change, without, with). Each is
    adopted only if it raises the outer estimate; the last one was not."""
    no_robust = without_member(ISSUE_3, "robust_z")
    no_holt = without_member(no_robust, "holt")
    squared = replace(no_holt, period_correction=2.0)
    return [
        ("member robust_z", no_robust, ISSUE_3),
        ("member holt", no_holt, no_robust),
        ("learning period squared", no_holt, squared),
        ("recurrence discount", squared, replace(squared, recurrence=True)),
    ]


def explained(config: EnsembleConfig, detector: str, by: str) -> EnsembleConfig:
    members = tuple(
        replace(m, explained_by=by) if m.detector == detector else m for m in config.members
    )
    return replace(config, members=members)


def everything_tried() -> dict[str, EnsembleConfig]:
    """Every configuration this issue tried that is configuration alone (the scratch
    experiments that needed code are in docs/benchmarks.md), the default first: choosing among
    all of them in folds estimates the whole search, not only its winner."""
    d = DEFAULT_ENSEMBLE
    base = without_member(without_member(ISSUE_3, "robust_z"), "holt")
    return {
        "Medic default": d,
        "issue-3 default": ISSUE_3,
        "without robust_z": without_member(ISSUE_3, "robust_z"),
        **{f"exponent {e:g}": replace(base, period_correction=e) for e in EXPONENTS if e != 2},
        "recurrence": replace(d, recurrence=True),
        **{f"history {h}": replace(d, history=h) for h in (2016, 4032, 17280)},
        **{f"tail {t:g}": replace(d, tail=t) for t in (0.02, 0.03, 0.1)},
        "suppression 0.6": replace(d, suppression=0.6),
        "seasonal weight 0.5": with_weight(d, "seasonal", 0.5),
        "discord explained by seasonal": explained(d, "discord", "seasonal"),
        "cusum explained by seasonal": explained(d, "cusum", "seasonal"),
        "rarity explained by discord": explained(d, "rarity", "discord"),
    }


@dataclass(frozen=True)
class Setup:
    files: tuple[NabFile, ...]
    groups: dict[str, list[NabFile]]
    profiles: tuple[Profile, ...]
    cache: SurpriseCache

    def method(self, name: str, config: EnsembleConfig, profile: Profile) -> Thresholded:
        return Thresholded(name, self.cache.scores(config), profile)


def setup(data: Path) -> Setup:
    corpus = load_corpus(data / "nab")
    return Setup(
        corpus.files, by_category(corpus.files), corpus.profiles, SurpriseCache(corpus.files)
    )


def baselines(s: Setup, profile: Profile) -> list[Claim]:
    """Single detectors (through the same streaming steps) and NAB's windowed Gaussian."""
    claims = []
    area = f"NAB {profile.name}"
    gaussian = {f.name: windowed_gaussian_scores(f.values) for f in s.files}
    singles: list[tuple[str, Mapping[str, FloatArray]]] = [("windowed Gaussian (NAB)", gaussian)]
    for m in ISSUE_3.univariate:
        singles.append((f"{m.detector} alone", s.cache.scores(ISSUE_3.only(m.detector))))
    for name, scores in singles:
        estimate = nested([Thresholded(name, scores, profile)], s.groups, nab_score)
        claims.append(Claim(area, name, GROUPS, estimate, baseline=True))
    return claims


def compared(
    s: Setup,
    name: str,
    without: EnsembleConfig,
    with_: EnsembleConfig,
    profile: Profile,
    report: Callable[[str], None],
) -> list[Claim]:
    """A component earns its place only if the outer estimate with it among the candidates
    (chosen by the inner folds) beats the one without it."""
    area = f"NAB {profile.name}"
    lacking = s.method(f"without {name}", without, profile)
    c = compare([lacking], [lacking, s.method(f"with {name}", with_, profile)], s.groups, nab_score)
    verdict = "keep" if c.keeps else "drop"
    report(
        f"{profile.name}: {name}: outer without {c.without.outer_score:.1f}, "
        f"with {c.with_.outer_score:.1f} -> {verdict}"
    )
    return [
        Claim(area, f"without {name}", GROUPS, c.without),
        Claim(area, f"{{without, with}} {name} ({verdict})", GROUPS, c.with_),
    ]


def by_category(files: Sequence[NabFile]) -> dict[str, list[NabFile]]:
    groups: dict[str, list[NabFile]] = {}
    for f in files:
        groups.setdefault(f.category, []).append(f)
    return groups


def stress_claims(s: Setup) -> list[Claim]:
    """The default on the shifted and trending views and on all three views pooled (a category's
    three versions are held out together), each profile: dev beside outer."""
    views = {name: [view(f) for f in s.files] for name, view in VIEWS.items()}
    cache = SurpriseCache([f for files in views.values() for f in files])
    cache.prepare([DEFAULT_ENSEMBLE])
    scores = {**s.cache.scores(DEFAULT_ENSEMBLE), **cache.scores(DEFAULT_ENSEMBLE)}
    pooled = [*s.files, *(f for files in views.values() for f in files)]
    out = []
    for profile in s.profiles:
        method = Thresholded("Medic default", scores, profile)
        for name, files in (*views.items(), ("views pooled", pooled)):
            estimate = nested([method], by_category(files), nab_score)
            out.append(Claim(f"NAB {profile.name}, {name}", "Medic default", GROUPS, estimate))
    return out


# An alarm level per series (issue 13, `nab` part, second pass): the combined surprise judged
# against the series' own level instead of, or on top of, one corpus-wide threshold. Each takes
# the combined surprises (learning period first) and the learning period's length. None kept:
# docs/benchmarks.md, "NAB detectors".
Level = Callable[[FloatArray, int], FloatArray]


def learning_level(quantile: float, share: float = 1.0) -> Level:
    """Less ``share`` x the ``quantile`` of the series' own combined surprise over the second
    half of its learning period (the first half is the calibrators' warm-up)."""

    def level(combined: FloatArray, learning: int) -> FloatArray:
        part = combined[learning // 2 : learning]
        bar = float(np.quantile(part, quantile)) if part.size else 0.0
        return np.maximum(combined - share * bar, 0.0)

    return level


def running_level(quantile: float, every: int = 50) -> Level:
    """Less the ``quantile`` of the series' combined surprises so far (its last 8640, refreshed
    every ``every`` points): a running upper level of the series itself."""

    def level(combined: FloatArray, learning: int) -> FloatArray:
        bar = np.zeros(combined.size)
        for i in range(30, combined.size, every):
            bar[i : i + every] = np.quantile(combined[max(0, i - 8640) : i], quantile)
        return np.maximum(combined - bar, 0.0)

    return level


def margin_level(window: float, share: float) -> Level:
    """Less ``share`` x the largest combined surprise of the previous ``window`` learning
    periods: an alarm scored by how far it beats the recent past, not by its size."""

    def level(combined: FloatArray, learning: int) -> FloatArray:
        w = max(int(window * learning), 1)
        running = np.concatenate([np.zeros(w), combined])
        previous: FloatArray = np.lib.stride_tricks.sliding_window_view(running, w).max(axis=1)
        return np.maximum(combined - share * previous[: combined.size], 0.0)

    return level


LEVELS: dict[str, Level] = {
    "learning-period maximum": learning_level(1.0),
    "learning-period 0.9 quantile": learning_level(0.9),
    "learning-period median": learning_level(0.5),
    "running 0.99 quantile": running_level(0.99),
    "half the last 0.4 learning periods' maximum": margin_level(0.4, 0.5),
}


def leveled_scores(
    cache: SurpriseCache, config: EnsembleConfig, level: Level
) -> dict[str, FloatArray]:
    """``alarm_scores`` with ``level`` applied to the combined surprise before scoring."""
    cache.prepare([config])
    out = {}
    for f in cache.files:
        keep = np.flatnonzero(np.isfinite(f.epoch) & np.isfinite(f.values))
        surprises = {name: s[keep] for name, s in cache.surprises(f.name, config).items()}
        periods = max(f.probation, 1) / config.reference_points
        combined = combine_surprises(
            surprises, config.univariate, keep.size, periods**config.period_correction
        )
        scores = surprise_score(level(combined, f.probation))
        scores[: f.probation] = 0.0
        suppress = CausalSuppressor(int(config.suppression * f.probation)).update
        group = AlarmGroup(round(config.grouping * f.probation)).update
        out[f.name] = np.zeros(len(f))
        out[f.name][keep] = [group(suppress(x), x) for x in scores.tolist()]
    return out


def level_claims(s: Setup, report: Callable[[str], None] = lambda _: None) -> list[Claim]:
    """Each per-series level alone on the three views pooled, then the default against the
    default with every level among the candidates (chosen in the inner folds)."""
    files = [*s.files, *(view(f) for view in VIEWS.values() for f in s.files)]
    cache = SurpriseCache(files)
    groups = by_category(files)
    standard = s.profiles[0]
    default = Thresholded("Medic default", cache.scores(DEFAULT_ENSEMBLE), standard)
    levels = [
        Thresholded(name, leveled_scores(cache, DEFAULT_ENSEMBLE, level), standard)
        for name, level in LEVELS.items()
    ]
    area = f"NAB {standard.name}, views pooled"
    out = [Claim(area, m.name, GROUPS, nested([m], groups, nab_score)) for m in levels]
    c = compare([default], [default, *levels], groups, nab_score)
    report(
        f"per-series level: pooled outer without {c.without.outer_score:.1f}, "
        f"with {c.with_.outer_score:.1f} (chosen {c.with_.choices()})"
    )
    out.append(Claim(area, "{default, every per-series level}", GROUPS, c.with_))
    return out


# New member families (issue 13, `nab` part, third pass): the spectral residual, the same members
# at a coarser time scale (alone, as voters, or as the support an alarm needs at two scales), and
# a ridge regression's prediction error. Each is tried as `compare(default, [default, candidate])`
# on the pooled stress views and on the untouched split; docs/benchmarks.md, "NAB detectors".


@dataclass(frozen=True)
class Candidate:
    """A configuration, optionally with members that need a supporter: at every point such a
    member's surprise is at most its supporter's (an alarm needs support at both scales)."""

    name: str
    config: EnsembleConfig
    support: tuple[tuple[str, str], ...] = ()


def supported_scores(cache: SurpriseCache, candidate: Candidate) -> dict[str, FloatArray]:
    """``alarm_scores`` of the candidate, each supported member capped by its supporter."""
    if not candidate.support:
        return cache.scores(candidate.config)
    config = candidate.config
    cache.prepare([config])
    out = {}
    for f in cache.files:
        surprises = dict(cache.surprises(f.name, config))
        for member, supporter in candidate.support:
            surprises[member] = np.fmin(surprises[member], surprises[supporter])
        valid = np.isfinite(f.epoch) & np.isfinite(f.values)
        out[f.name] = alarm_scores(config, surprises, valid, f.probation)
    return out


def with_member(config: EnsembleConfig, member: Member) -> EnsembleConfig:
    return replace(config, members=(*config.members, member))


def replaced(config: EnsembleConfig, detector: str, member: Member) -> EnsembleConfig:
    return replace(
        config, members=tuple(member if m.detector == detector else m for m in config.members)
    )


def new_members() -> list[Candidate]:
    """The candidates of the third pass, each a change of the default."""
    d = DEFAULT_ENSEMBLE
    quiet = Member("coarse_rarity", weight=0.0)  # a supporter only: it does not vote
    return [
        Candidate("+ spectral residual", with_member(d, Member("spectral"))),
        Candidate("+ spectral residual, weight 0.3", with_member(d, Member("spectral", 0.3))),
        Candidate("+ ridge prediction error", with_member(d, Member("ridge"))),
        Candidate("+ ridge prediction error, weight 0.3", with_member(d, Member("ridge", 0.3))),
        Candidate("+ rarity at 4x as a voter", with_member(d, Member("coarse_rarity"))),
        Candidate(
            "rarity at 4x instead of rarity",
            replaced(d, "rarity", Member("coarse_rarity", explained_by="seasonal")),
        ),
        Candidate(
            "rarity needs support at 4x",
            with_member(d, quiet),
            support=(("rarity", "coarse_rarity"),),
        ),
        Candidate(
            "rarity needs support at 2x",
            with_member(d, replace(quiet, params={"factor": 2})),
            support=(("rarity", "coarse_rarity"),),
        ),
        Candidate(
            "rarity needs support from the ridge's prediction error",
            with_member(d, Member("ridge", weight=0.0)),
            support=(("rarity", "ridge"),),
        ),
        Candidate(
            "rarity needs support from the ridge, which votes at 0.3",
            with_member(d, Member("ridge", weight=0.3)),
            support=(("rarity", "ridge"),),
        ),
        Candidate(
            "rarity needs support from the spectral residual",
            with_member(d, Member("spectral", weight=0.0)),
            support=(("rarity", "spectral"),),
        ),
        Candidate(
            "ridge (weight 0.3) instead of CUSUM",
            replaced(d, "cusum", Member("ridge", weight=0.3)),
        ),
        Candidate(
            "discord at 4x instead of discord",
            replaced(d, "discord", Member("coarse_discord")),
        ),
        Candidate(
            "discord needs support at 4x",
            replaced(
                with_member(d, Member("coarse_discord", weight=0.0)),
                "discord",
                Member("discord", explained_by="coarse_discord"),
            ),
        ),
    ]


# The fourth pass (issue 13, `nab` part), declared before it was measured: three families not
# tried before, each implemented here from its idea - adaptive resonance over downsampled windows
# (ARTime's idea: a window no learnt category holds), a conformal k-NN (KNN-CAD's non-conformity:
# the mean distance to the k nearest earlier windows, raw or shapes only) and rarity judged
# against the series' recent level (aimed at the shifted and trending views, where rarity fires on
# the new level). docs/benchmarks.md, "NAB detectors".


def fourth_pass() -> list[Candidate]:
    """The fourth pass's candidates, each a change of the default."""
    d = DEFAULT_ENSEMBLE
    shapes = {"centred": 1.0}
    level = {
        name: Member("level_rarity", weight=0.0, params={"window": w})
        for name, w in (("64", 64), ("512", 512))
    }
    out = [
        Candidate("+ adaptive resonance", with_member(d, Member("art"))),
        Candidate("+ adaptive resonance, weight 0.3", with_member(d, Member("art", 0.3))),
        Candidate("+ conformal k-NN", with_member(d, Member("knn"))),
        Candidate("+ conformal k-NN, weight 0.3", with_member(d, Member("knn", 0.3))),
        Candidate("+ conformal k-NN on shapes", with_member(d, Member("knn", params=shapes))),
        Candidate("conformal k-NN instead of discord", replaced(d, "discord", Member("knn"))),
    ]
    for name, member in level.items():
        out.append(
            Candidate(
                f"level-adjusted rarity ({name}) instead of rarity",
                replaced(d, "rarity", replace(member, weight=1.0, explained_by="seasonal")),
            )
        )
        out.append(
            Candidate(
                f"rarity needs support from level-adjusted rarity ({name})",
                with_member(d, member),
                support=(("rarity", "level_rarity"),),
            )
        )
    return out


def fourth_pass_followup() -> list[Candidate]:
    """Declared after the fourth pass's first list was measured (so chosen with its outer numbers
    in view) and before this list was: level-adjusted rarity helped the trending view and cost
    the untouched split, so keep rarity's vote on values never seen at a lower weight, or take
    the level over a long window (a slow drift is forgotten, a departure within weeks is not)."""
    d = DEFAULT_ENSEMBLE
    level = Member("level_rarity", explained_by="seasonal", params={"window": 64})
    long = Member("level_rarity", weight=0.0, params={"window": 4096})
    return [
        Candidate(
            "level-adjusted rarity (64) instead of rarity, rarity votes at 0.3",
            with_member(
                replaced(d, "rarity", level), Member("rarity", 0.3, explained_by="seasonal")
            ),
        ),
        Candidate(
            "level-adjusted rarity (4096) instead of rarity",
            replaced(d, "rarity", replace(long, weight=1.0, explained_by="seasonal")),
        ),
        Candidate(
            "rarity needs support from level-adjusted rarity (4096)",
            with_member(d, long),
            support=(("rarity", "level_rarity"),),
        ),
    ]


def fourth_pass_all() -> list[Candidate]:
    """Both lists of the fourth pass: choosing among all of them in folds estimates the whole
    search, the follow-up included, not only its best candidate."""
    return [*fourth_pass(), *fourth_pass_followup()]


def member_claims(
    s: Setup,
    report: Callable[[str], None] = lambda _: None,
    only: Sequence[str] = (),
    listed: Callable[[], list[Candidate]] = new_members,
) -> list[Claim]:
    """Each candidate alone per view and profile (dev beside outer), then, standard profile,
    the default against the default with the candidate (and with all of them) as candidates, on
    the pooled views and on the untouched split."""
    candidates = [c for c in listed() if not only or c.name in only]
    views = [view(f) for view in VIEWS.values() for f in s.files]
    cache = SurpriseCache([*s.files, *views])
    configs = [DEFAULT_ENSEMBLE, *(c.config for c in candidates)]
    cache.prepare(configs)
    scored = {"Medic default": cache.scores(DEFAULT_ENSEMBLE)}
    for c in candidates:
        scored[c.name] = supported_scores(cache, c)
    return scored_claims(s, cache, scored, report)


def scored_claims(
    s: Setup,
    cache: SurpriseCache,
    scored: Mapping[str, Mapping[str, FloatArray]],
    report: Callable[[str], None],
    families: Mapping[str, Sequence[str]] | None = None,
) -> list[Claim]:
    """Each scored candidate alone per view and profile (dev beside outer), then, standard
    profile, ``compare(default, [default, candidate])``, with each family of candidates and with
    every candidate at once, on the pooled views and on the untouched split (``scored`` holds
    "Medic default" first)."""
    names = {f.name for f in s.files}
    sets = {
        "original": [f for f in cache.files if f.name in names],
        **{
            v: [f for f in cache.files if f.name.split("/", 1)[1].startswith(v + "_")]
            for v in VIEWS
        },
        "views pooled": list(cache.files),
    }
    out = []
    for profile in s.profiles:
        for view_name, files in sets.items():
            groups = by_category(files)
            for name, scores in scored.items():
                estimate = nested([Thresholded(name, scores, profile)], groups, nab_score)
                out.append(Claim(f"NAB {profile.name}, {view_name}", name, GROUPS, estimate))
                report(
                    f"{profile.name} {view_name}: {name}: dev {estimate.dev_score:.1f} "
                    f"outer {estimate.outer_score:.1f}"
                )
    standard = s.profiles[0]
    for view_name in ("views pooled", "original"):
        groups = by_category(sets[view_name])
        default = Thresholded("Medic default", scored["Medic default"], standard)
        methods = [Thresholded(n, sc, standard) for n, sc in scored.items() if n != default.name]
        sets_of: list[tuple[str, list[Thresholded]]] = [(m.name, [m]) for m in methods]
        for family, members in (families or {}).items():
            sets_of.append((family, [m for m in methods if m.name in members]))
        sets_of.append(("every new member", methods))
        for what, chosen in sets_of:
            both = compare([default], [default, *chosen], groups, nab_score)
            report(
                f"{view_name}: {what}: outer without {both.without.outer_score:.1f}, "
                f"with {both.with_.outer_score:.1f} (chosen {both.with_.choices()})"
            )
            area = f"NAB {standard.name}, {view_name}"
            out.append(Claim(area, f"{{default, {what}}}", GROUPS, both.with_))
    return out


# The fifth pass (issue 13, `nab` part), declared before it was measured: three families not
# tried before, each replacing a corpus-wide constant with something the series sets itself -
# an extreme-value alarm level per series (SPOT / DSPOT: a generalised Pareto tail fitted to the
# peaks of the series' own combined surprise), a Bayesian online change-point gate (a point after
# a detected change judged by the new segment's own run) and a label-free choice of configuration
# per series from its own learning period (the one whose alarm rate there is nearest a target
# rate; the target is what the inner folds choose). docs/benchmarks.md, "NAB detectors".

LEVEL_LOOK = 4096  # the fourth pass's follow-up window, a member of the per-series choice
CHOICE_RATES = (0.0, 0.002, 0.01)  # targets: alarms per learning-period point
CHOICE_SURPRISE = 2.0  # an "alarm" while learning: combined surprise >= 2 (1 in 100, corrected)
DSPOT_DEPTH = 0.1  # DSPOT's drift window, in learning periods
SPOT_REFIT = 250  # the tail is refitted every 250 points (a GPD fit costs ~30 ms)
GATE_MIN_RUN = 10  # a new segment predicts once it holds this many points
GATE_LONGEST = 500  # BOCPD's longest run (and hazard: one change per learning period)


@dataclass(frozen=True)
class FileContext:
    """What the fifth pass's candidates see of one file: the finite values, the learning
    period's length and the combined surprise of each configuration of the choice."""

    values: FloatArray
    learning: int
    combined: Mapping[str, FloatArray]
    gate: dict[str, FloatArray] = field(default_factory=dict)


FifthCandidate = Callable[[FileContext], FloatArray]


def choice_configs() -> dict[str, Candidate]:
    """The configurations a series may choose among: the default first (it wins ties), then the
    two earlier candidates that helped one view each (trend: rarity against a long level; false
    alarms: rarity needs support at 4x)."""
    d = DEFAULT_ENSEMBLE
    long = Member("level_rarity", explained_by="seasonal", params={"window": LEVEL_LOOK})
    return {
        "default": Candidate("default", d),
        "level": Candidate("level (4096) instead of rarity", replaced(d, "rarity", long)),
        "support": Candidate(
            "rarity needs support at 4x",
            with_member(d, Member("coarse_rarity", weight=0.0)),
            support=(("rarity", "coarse_rarity"),),
        ),
    }


def _gate(ctx: FileContext) -> FloatArray:
    if "gate" not in ctx.gate:  # computed once per file: the choice reuses it
        learning = max(ctx.learning, 2)
        mean, variance = normal_gamma_prior(ctx.values[:learning])
        longest = min(learning, GATE_LONGEST)
        predictions = run_predictions(ctx.values, learning, longest, mean, variance)
        ctx.gate["gate"] = gated(ctx.combined["default"], predictions, GATE_MIN_RUN, longest)
    return ctx.gate["gate"]


def _spot(ctx: FileContext) -> FloatArray:
    if "spot" not in ctx.gate:
        ctx.gate["spot"] = spot_surprises(ctx.combined["default"], ctx.learning, refit=SPOT_REFIT)
    return ctx.gate["spot"]


def _dspot(ctx: FileContext) -> FloatArray:
    depth = max(int(DSPOT_DEPTH * ctx.learning), 10)
    drift = drift_removed(ctx.combined["default"], depth)
    return spot_surprises(drift, ctx.learning, refit=SPOT_REFIT)


def _spot_ceiling(ctx: FileContext) -> FloatArray:
    return np.minimum(ctx.combined["default"], _spot(ctx))


def rate_choice(rate: float) -> FifthCandidate:
    """The configuration whose alarm rate over the second half of the learning period (the
    first is the calibrators' warm-up) is nearest ``rate``; the default on ties."""

    def choose(ctx: FileContext) -> FloatArray:
        part = slice(ctx.learning // 2, ctx.learning)
        options = [*ctx.combined.items(), ("gate", _gate(ctx))]
        rates = [
            float(np.mean(c[part] >= CHOICE_SURPRISE)) if ctx.learning > 1 else 0.0
            for _, c in options
        ]
        best = min(range(len(options)), key=lambda k: (abs(rates[k] - rate), k))
        return options[best][1]

    return choose


def fifth_pass() -> dict[str, FifthCandidate]:
    """The fifth pass's candidates, declared before any was measured."""
    return {
        "SPOT: the series' own GPD tail of its combined surprise": _spot,
        "DSPOT: the same on the drift-removed combined surprise": _dspot,
        "SPOT as a ceiling on the default": _spot_ceiling,
        "BOCPD gate after a detected change": _gate,
        **{f"per-series choice, target rate {r:g}": rate_choice(r) for r in CHOICE_RATES},
    }


def _combined(
    config: EnsembleConfig, surprises: Mapping[str, FloatArray], size: int, learning: int
) -> FloatArray:
    periods = max(learning, 1) / config.reference_points
    return combine_surprises(surprises, config.univariate, size, periods**config.period_correction)


def _fifth_of_file(
    task: tuple[NabFile, dict[str, dict[str, FloatArray]], dict[str, Candidate]],
) -> tuple[str, dict[str, FloatArray]]:
    file, member_surprises_, configs = task
    keep = np.flatnonzero(np.isfinite(file.epoch) & np.isfinite(file.values))
    combined = {}
    for name, candidate in configs.items():
        surprises = {k: v[keep] for k, v in member_surprises_[name].items()}
        for member, supporter in candidate.support:
            surprises[member] = np.fmin(surprises[member], surprises[supporter])
        combined[name] = _combined(candidate.config, surprises, keep.size, file.probation)
    ctx = FileContext(file.values[keep], file.probation, combined)
    config = DEFAULT_ENSEMBLE
    out = {}
    for name, judge in fifth_pass().items():
        scores = surprise_score(judge(ctx))
        scores[: file.probation] = 0.0
        suppress = CausalSuppressor(int(config.suppression * file.probation)).update
        group = AlarmGroup(round(config.grouping * file.probation)).update
        out[name] = np.zeros(len(file))
        out[name][keep] = [group(suppress(x), x) for x in scores.tolist()]
    return file.name, out


def fifth_claims(s: Setup, report: Callable[[str], None] = lambda _: None) -> list[Claim]:
    """The fifth pass: each candidate alone per view and profile, then nested against the
    default, on the pooled views and on the untouched split."""
    views = [view(f) for view in VIEWS.values() for f in s.files]
    cache = SurpriseCache([*s.files, *views])
    configs = choice_configs()
    cache.prepare([c.config for c in configs.values()])
    tasks = [
        (f, {n: cache.surprises(f.name, c.config) for n, c in configs.items()}, configs)
        for f in sorted(cache.files, key=len, reverse=True)
    ]
    scored: dict[str, dict[str, FloatArray]] = {"Medic default": cache.scores(DEFAULT_ENSEMBLE)}
    with ProcessPoolExecutor(max_workers=JOBS) as pool:
        for name, found in pool.map(_fifth_of_file, tasks):
            for candidate, scores in found.items():
                scored.setdefault(candidate, {})[name] = scores
    return scored_claims(s, cache, scored, report, fifth_families())


def fifth_families() -> dict[str, list[str]]:
    """The declared families, each chosen among in the inner folds as one set: the per-series
    choice with its target rate chosen in folds, and the extreme-value levels."""
    names = list(fifth_pass())
    return {
        "per-series choice, the target rate chosen in folds": [n for n in names if "choice" in n],
        "SPOT, DSPOT or the ceiling, chosen in folds": [n for n in names if "SPOT" in n],
    }


def claims(data: Path, report: Callable[[str], None] = lambda _: None) -> list[Claim]:
    s = setup(data)
    s.cache.prepare([ISSUE_3, DEFAULT_ENSEMBLE])
    standard = s.profiles[0]
    area = f"NAB {standard.name}"
    out: list[Claim] = []
    for profile in s.profiles:
        for what, config in (("issue-3 default", ISSUE_3), ("Medic default", DEFAULT_ENSEMBLE)):
            estimate = nested([s.method(what, config, profile)], s.groups, nab_score)
            out.append(Claim(f"NAB {profile.name}", what, GROUPS, estimate))
    for name, without, with_ in steps():
        out += compared(s, name, without, with_, standard, report)
    base = without_member(without_member(ISSUE_3, "robust_z"), "holt")
    exponents = [
        s.method(f"exponent {e:g}", replace(base, period_correction=e), standard) for e in EXPONENTS
    ]
    out.append(
        Claim(
            area,
            "learning-period exponent chosen in folds",
            GROUPS,
            nested(exponents, s.groups, nab_score),
        )
    )
    for name, reduced in components(DEFAULT_ENSEMBLE).items():
        if name != "recurrence discount":  # off in the default; tried in the steps
            out += compared(s, name, reduced, DEFAULT_ENSEMBLE, standard, report)
    candidates = [  # every configuration the steps passed through, the default first
        s.method("Medic default", DEFAULT_ENSEMBLE, standard),
        s.method("without robust_z, holt", base, standard),
        s.method("without robust_z", without_member(ISSUE_3, "robust_z"), standard),
        s.method("issue-3 default", ISSUE_3, standard),
        s.method("default + recurrence", replace(DEFAULT_ENSEMBLE, recurrence=True), standard),
    ]
    everything = nested(candidates, s.groups, nab_score)
    out.append(Claim(area, "choice among issue 3 and every step", GROUPS, everything))
    tried = everything_tried()
    s.cache.prepare(list(tried.values()))
    search = nested([s.method(n, c, standard) for n, c in tried.items()], s.groups, nab_score)
    out.append(Claim(area, f"choice among all {len(tried)} configurations tried", GROUPS, search))
    out += baselines(s, standard)
    out += stress_claims(s)
    out += level_claims(s, report)
    return out


def main() -> int:
    """``python -m benchmarks.generalization.nab --members``: the third pass's candidates (their
    own command: they add about ten minutes of member surprises on 93 files to the nab area)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="NAB candidates under the protocol")
    parser.add_argument("--data", type=Path, default=Path("../shared/bench-data"))
    parser.add_argument("--members", action="store_true", help="the third pass's members")
    parser.add_argument("--fourth", action="store_true", help="the fourth pass's members")
    parser.add_argument("--followup", action="store_true", help="the fourth pass's second list")
    parser.add_argument("--fourth-all", action="store_true", help="both lists, chosen together")
    parser.add_argument("--fifth", action="store_true", help="the fifth pass's candidates")
    parser.add_argument("--only", action="append", default=[], help="one candidate by name")
    args = parser.parse_args()
    if not (args.data / "nab").is_dir():
        print(f"no NAB data under {args.data} (give --data)", file=sys.stderr)
        return 2
    listed = {
        "members": new_members,
        "fourth": fourth_pass,
        "followup": fourth_pass_followup,
        "fourth_all": fourth_pass_all,
    }
    if args.fifth:
        fifth_claims(setup(args.data), lambda line: print(line, flush=True))
    for flag, candidates in listed.items():
        if getattr(args, flag):
            member_claims(
                setup(args.data), lambda line: print(line, flush=True), args.only, candidates
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
