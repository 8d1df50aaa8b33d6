"""Nezha root-cause ranking under the generalisation protocol (issue 13).

Items are incidents; an incident's outcome is the rank of its root cause; AS@k is the share
ranked in the top k. The 28 real incidents of the development split have three fault types,
too few to tell how a fault type never seen is ranked, so three synthetic types are replayed on
the same windows (``rca_replay``: network delay, delay past the callers' timeouts, non-CPU
saturation) and held out as their own groups. A replayed fault's target competes with the
incident's real fault for rank 1, which a responder would take as a second answer, so the real
root cause is left out of the replay's ranking.

What each incident is ranked against - the other incidents of the day, leave-one-out (for a
replay, the others than its host) - is the user's history, not a choice. The choices are the
channels scored; candidates are channel sets, simplest (today's defaults) first, and the
protocol keeps one only if the outer estimate rises (``compare``).
"""

from __future__ import annotations

import hashlib
import pickle
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sklearn.linear_model import LogisticRegression

from benchmarks.generalization import rca_replay
from benchmarks.generalization.protocol import (
    Claim,
    Comparison,
    Fixed,
    Method,
    compare,
    nested,
)
from knowledge.evaluation.fault_data import FAULT_SECONDS, load_index, read_logs, read_metrics
from knowledge.evaluation.rca import incident_features
from knowledge.ranking import DEFAULT_CHANNELS, Features, rank_components
from knowledge.templates import TemplateMiner

SEED = 13
PER_HOST = {"delay": 2}  # replays of a kind per real incident (1 unless named): delays vary most
NEZHA = Path("rca") / "nezha"

FOURTH_PASS = DEFAULT_CHANNELS - {"onset"}  # the defaults before onset order (fifth pass)
ISSUE_4 = (FOURTH_PASS - {"flow", "delay", "late"}) | {"flow_untimed", "delay_exact"}
FIRST_PASS = FOURTH_PASS - {"late"}  # issue 13's defaults before the replay was widened
# Components tried, in order: each replaces (or adds) channels of the set kept so far and stays
# only if the outer estimate rises by fault type and by hour (forward selection, ``selection``).
STEPS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "timed flow": (frozenset({"flow_untimed"}), frozenset({"flow"})),
    "pooled delay": (frozenset({"delay_exact"}), frozenset({"delay"})),
    "late links": (frozenset(), frozenset({"late_raw"})),
    "late links past 3 sigma": (frozenset({"late_raw"}), frozenset({"late"})),
    "stretch": (frozenset(), frozenset({"stretch"})),
    "latency with traces": (frozenset(), frozenset({"latency_traced"})),
    "flow share": (frozenset({"flow"}), frozenset({"flow_share"})),
    "self time": (frozenset(), frozenset({"self_time"})),
    "self time slow past 3 sigma": (frozenset(), frozenset({"self_slow"})),
    "delay tail": (frozenset(), frozenset({"delay_tail"})),
    "steady saturation": (frozenset({"saturation"}), frozenset({"saturation_steady"})),
    "late breadth": (frozenset({"late"}), frozenset({"late_breadth"})),
}
GROUPINGS = ("fault type", "hour")


@dataclass(frozen=True)
class Case:
    """One incident to rank: real, or a fault replayed on a real incident's window (its host)."""

    id: str
    fault_type: str
    hour: str
    root: str
    host: str
    excluded: str  # left out of the ranking: a replay host's real root cause
    features: Mapping[str, Features]
    size: float = 0.0  # a replay's delay (seconds) or slowdown (factor)
    shape: str = ""  # a replayed delay's shape (``rca_replay.Fault.shape``)
    view: str = "real"  # "real", or the replay's view: "widened" or "staggered" (its onset)


def load_cases(data: Path, kinds: Sequence[str] = rca_replay.KINDS) -> list[Case]:
    """The real incidents under ``data`` (the Nezha directory), ``PER_HOST`` replays of each
    kind on each of them from the host's injection time (the widened view), then the same
    faults started earlier (the staggered view, ``rca_replay.stagger``; made after the widened
    ones, so that those are mined and drawn exactly as before)."""
    incidents = load_index(data)
    miner = TemplateMiner()
    metrics = {d: read_metrics(d) for d in {i.metric_dir for i in incidents}}
    baselines = {
        key: read_logs(list(key)) for key in {tuple(i.baseline_log_files) for i in incidents}
    }
    rng = random.Random(SEED)
    windows = {i.id: read_logs(i.log_files) for i in incidents}
    cases: list[Case] = []
    later: list[tuple[Any, rca_replay.Fault, str, Any]] = []
    for incident in incidents:  # the real ones first, mined in order as medic eval rca does
        base = baselines[tuple(incident.baseline_log_files)]
        found = incident_features(
            incident, base, windows[incident.id], metrics[incident.metric_dir], miner, True
        )
        cases.append(
            Case(
                incident.id,
                incident.fault_type,
                _hour(incident.inject_time),
                incident.root_cause,
                incident.id,
                "",
                found,
            )
        )
    for incident in incidents:
        base, current = baselines[tuple(incident.baseline_log_files)], windows[incident.id]
        active = rca_replay.active_services(current, incident.inject_time)
        targets = [s for s in active if s != incident.root_cause]
        for kind in kinds:
            for n in range(PER_HOST.get(kind, 1)):
                target = rng.choice(targets)
                fault = rca_replay.draw(
                    kind,
                    target,
                    rng,
                    rca_replay.usual_handoff(base, target),
                    sorted(rca_replay.neighbours(current, target)),
                )
                later.append((incident, fault, f"{kind}{n}", rng.getstate()))
                logs, changed = rca_replay.replay(
                    fault, current, metrics[incident.metric_dir], base, incident.inject_time, rng
                )
                replayed = incident_features(incident, base, logs, changed, miner, True)
                cases.append(
                    Case(
                        f"{incident.id}/{kind}{n}",
                        kind,
                        _hour(incident.inject_time),
                        fault.target,
                        incident.id,
                        incident.root_cause,
                        replayed,
                        fault.size,
                        fault.shape,
                        "widened",
                    )
                )
    for incident, fault, name, state in later:  # the same faults, started before the host's
        base, current = baselines[tuple(incident.baseline_log_files)], windows[incident.id]
        case_id = f"{incident.id}/staggered-{name}"
        onset = incident.inject_time - rca_replay.stagger(case_id)
        own = random.Random()
        own.setstate(state)  # the same draws as the widened replay of this fault
        logs, changed = rca_replay.replay(
            fault,
            current,
            metrics[incident.metric_dir],
            base,
            onset,
            own,
            until=incident.inject_time + FAULT_SECONDS,
        )
        cases.append(
            Case(
                case_id,
                fault.kind,
                _hour(incident.inject_time),
                fault.target,
                incident.id,
                incident.root_cause,
                incident_features(incident, base, logs, changed, miner, True),
                fault.size,
                fault.shape,
                "staggered",
            )
        )
    return cases


def _hour(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H")


def cached_cases(data: Path, cache: Path | None) -> list[Case]:
    """``load_cases``, kept in ``cache`` (a directory) under a key of the code that makes them."""
    if cache is None:
        return load_cases(data)
    sources = ["knowledge/traces.py", "knowledge/ranking.py", "knowledge/evaluation/rca.py"]
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256(str(data.resolve()).encode())
    for name in [
        *sources,
        "benchmarks/generalization/rca_replay.py",
        "benchmarks/generalization/rca.py",
    ]:
        digest.update((root / name).read_bytes())
    path = cache / f"rca-cases-{digest.hexdigest()[:16]}.pickle"
    if path.is_file():
        loaded: list[Case] = pickle.loads(path.read_bytes())
        return loaded
    cases = load_cases(data)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(cases))
    return cases


Ranks = Mapping[str, int | None]  # case id -> rank of its root cause (None: not ranked)


def positions(cases: Sequence[Case], channels: frozenset[str]) -> dict[str, int | None]:
    """Each case's root-cause rank under ``channels``, against the real incidents other than
    its host as history."""
    real = {c.id: c.features for c in cases if c.id == c.host}
    out: dict[str, int | None] = {}
    for case in cases:
        history = [f for host, f in real.items() if host != case.host]
        ranked = rank_components(case.features, history, channels)
        order = [r.component for r in ranked if r.component != case.excluded]
        out[case.id] = order.index(case.root) + 1 if case.root in order else None
    return out


def as_at(k: int) -> Callable[[Sequence[int | None]], float]:
    """AS@k over a list of ranks (None: not ranked at all)."""

    def summarize(ranks: Sequence[int | None]) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0

    return summarize


@dataclass(frozen=True)
class Step:
    """One component tried: the outer estimates without and with it, per grouping."""

    name: str
    channels: frozenset[str]  # the set with it
    results: Mapping[str, Comparison]
    real: Comparison | None = None  # the real incidents alone, by fault type

    @property
    def keeps(self) -> bool:
        """Both outer estimates rise, and the real incidents' does not fall (a gain on
        replayed faults bought with a real incident is not one)."""
        held = self.real is None or self.real.with_.outer_score >= self.real.without.outer_score
        return held and all(r.keeps for r in self.results.values())


def methods(
    cases: Sequence[Case], sets: Sequence[tuple[str, frozenset[str]]], cache: dict[str, Ranks]
) -> list[Fixed[Case, int | None]]:
    """Candidate channel sets as methods with nothing to fit (ranks computed once per set)."""
    out = []
    for name, channels in sets:
        key = ",".join(sorted(channels))
        if key not in cache:
            cache[key] = positions(cases, channels)
        out.append(Fixed(name, _lookup(cache[key])))
    return out


def _lookup(ranks: Ranks) -> Callable[[Case], int | None]:
    return lambda case: ranks[case.id]


def grouped(cases: Sequence[Case], by: str) -> dict[str, list[Case]]:
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(case.fault_type if by == "fault type" else case.hour, []).append(case)
    return groups


def selection(cases: Sequence[Case], cache: dict[str, Ranks]) -> list[Step]:
    """Forward selection from issue 4's channels: each step's set is compared with the sets
    kept so far (AS@1, by fault type and by hour) and kept only if both outer estimates rise
    and the real incidents' (by fault type) does not fall."""
    kept: list[tuple[str, frozenset[str]]] = [("issue 4", ISSUE_4)]
    steps: list[Step] = []
    for name, (removed, added) in STEPS.items():
        candidate = (kept[-1][1] - removed) | added
        label = f"{kept[-1][0]} + {name}"
        results = {
            by: compare(
                methods(cases, kept, cache),
                methods(cases, [*kept, (label, candidate)], cache),
                grouped(cases, by),
                as_at(1),
            )
            for by in GROUPINGS
        }
        real = [c for c in cases if c.id == c.host]
        held = compare(  # the set itself, not a choice that could fall back on the old one
            methods(cases, kept[-1:], cache),
            methods(cases, [(label, candidate)], cache),
            grouped(real, "fault type"),
            as_at(1),
        )
        step = Step(name, candidate, results, held)
        steps.append(step)
        if step.keeps:
            kept.append((label, candidate))
    return steps


def claims(data: Path, cache: Path | None = None) -> list[Claim]:
    """Dev beside outer for AS@1 and AS@3, by fault type (real and replayed) and by hour, for
    issue 4's channels, today's defaults and the choice among every set tried; then each step
    of the forward selection that decided the defaults."""
    everything = cached_cases(data / NEZHA, cache)
    cases = view_cases(everything, "widened")
    real = [c for c in cases if c.id == c.host]
    ranks: dict[str, Ranks] = {}
    steps = selection(cases, ranks)
    tried = [("issue 4", ISSUE_4), *((s.name, s.channels) for s in steps)]
    out: list[Claim] = []
    for k in (1, 3):
        summarize = as_at(k)
        area = f"Nezha AS@{k}"
        views = [
            (area, "fault type", grouped(cases, "fault type")),
            (area, "hour", grouped(cases, "hour")),
            (f"{area} (28 real)", "fault type", grouped(real, "fault type")),
        ]
        for label, by, groups in views:
            for what, sets, baseline in [
                ("issue 4 channels", [("issue 4", ISSUE_4)], True),
                ("issue 13 first pass", [("first pass", FIRST_PASS)], True),
                ("defaults", [("defaults", DEFAULT_CHANNELS)], False),
                ("chosen among every set tried", tried, False),
            ]:
                estimate = nested(methods(cases, sets, ranks), groups, summarize)
                out.append(Claim(label, what, by, estimate, baseline))
    for step in steps:
        verdict = "kept" if step.keeps else "dropped"
        shown = [*step.results.items(), *([("real fault type", step.real)] if step.real else [])]
        for by, result in shown:
            what = f"+{step.name} {verdict}, without {result.without.outer_score:.3f}"
            out.append(Claim("Nezha AS@1 selection", what, by, result.with_))
    return out + learned_claims(cases, ranks) + onset_claims(everything) + graph_claims(everything)


# --- a learned combination of the channels (issue 13, fourth pass) ---
LEARNED_FEATURES = {  # the channel parts a learned combination weighs
    "defaults": tuple(sorted(FOURTH_PASS)),
    "every channel": tuple(
        sorted(FOURTH_PASS | {"stretch", "self_time", "self_slow", "delay_tail", "late_raw"})
    ),
}
LEARNED_C = 1.0  # scikit-learn's default regularisation, not tuned


@dataclass(frozen=True)
class CaseParts:
    """One case's services (the excluded one left out) and their channel parts, as the additive
    fusion scores them against the case's history (``rank_components``)."""

    services: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]
    root: str


def case_parts(cases: Sequence[Case], channels: Sequence[str]) -> dict[str, CaseParts]:
    """Every case's channel parts (each channel scored alone, as the fusion would)."""
    real = {c.id: c.features for c in cases if c.id == c.host}
    out: dict[str, CaseParts] = {}
    for case in cases:
        history = [f for host, f in real.items() if host != case.host]
        ranked = rank_components(case.features, history, frozenset(channels))
        kept = sorted(
            (r for r in ranked if r.component != case.excluded), key=lambda r: r.component
        )
        out[case.id] = CaseParts(
            tuple(r.component for r in kept),
            tuple(tuple(r.channels.get(c, 0.0) for c in channels) for r in kept),
            case.root,
        )
    return out


@dataclass(frozen=True)
class Learned:
    """A logistic regression over the channel parts (is this service the root cause?), fitted
    only on the training cases it is given (the inner folds), each case's services weighed
    together as much as one root; a case's services are ranked by its decision value (ties by
    name). A method of the protocol with something to fit."""

    name: str
    parts: Mapping[str, CaseParts]

    def fit(self, train: Sequence[Case]) -> Any:
        rows: list[tuple[float, ...]] = []
        labels: list[int] = []
        weights: list[float] = []
        for case in train:
            found = self.parts[case.id]
            if case.root not in found.services:
                continue
            others = max(len(found.services) - 1, 1)
            for service, row in zip(found.services, found.rows, strict=True):
                rows.append(row)
                labels.append(int(service == case.root))
                weights.append(1.0 if service == case.root else 1.0 / others)
        model = LogisticRegression(C=LEARNED_C, max_iter=1000)
        model.fit(rows, labels, sample_weight=weights)
        return model

    def outcomes(self, fitted: Any, test: Sequence[Case]) -> list[int | None]:
        out: list[int | None] = []
        for case in test:
            found = self.parts[case.id]
            if case.root not in found.services:
                out.append(None)
                continue
            scores = fitted.decision_function(list(found.rows))
            order = sorted(
                range(len(found.services)), key=lambda k: (-scores[k], found.services[k])
            )
            names = [found.services[k] for k in order]
            out.append(names.index(case.root) + 1)
        return out


def real_outer(estimate: Any, groups: Mapping[str, Sequence[Case]]) -> float:
    """The outer estimate on the real incidents alone (their fault types' held-out folds,
    pooled by size)."""
    real = {c.fault_type for cs in groups.values() for c in cs if c.id == c.host}
    folds = [f for f in estimate.folds if f.group in real]
    total = sum(len(groups[f.group]) for f in folds)
    return sum(f.outer_score * len(groups[f.group]) for f in folds) / total if total else 0.0


def learned_claims(cases: Sequence[Case], cache: dict[str, Ranks]) -> list[Claim]:
    """The learned combinations against today's additive fusion, by fault type and by hour:
    the defaults alone, then with each learned combination among the candidates (chosen in the
    inner folds); AS@1 and AS@3 outer, and the real incidents' AS@1 in the fault-type folds."""
    defaults: list[Method[Case, Any, int | None]] = list(
        methods(cases, [("defaults", FOURTH_PASS)], cache)
    )
    out: list[Claim] = []
    for label, channels in LEARNED_FEATURES.items():
        learned = Learned(f"learned over {label}", case_parts(cases, channels))
        for k in (1, 3):
            for by in GROUPINGS:
                groups = grouped(cases, by)
                for what, sets in (("defaults", defaults), (learned.name, [*defaults, learned])):
                    estimate = nested(sets, groups, as_at(k))
                    real = real_outer(estimate, groups) if by == "fault type" else None
                    note = what if real is None else f"{what} (28 real AS@{k} {real:.3f})"
                    out.append(Claim(f"Nezha AS@{k} learned", note, by, estimate))
    return out


# --- onset order on staggered replays (issue 13, fifth pass) ---
VIEWS = ("widened", "staggered")
ONSET_SETS = (("fourth pass", FOURTH_PASS), ("defaults (+ onset)", DEFAULT_CHANNELS))


def view_cases(cases: Sequence[Case], view: str) -> list[Case]:
    """The real incidents and the replays of one view (``Case.view``)."""
    return [c for c in cases if c.view in ("real", view)]


def onset_claims(everything: Sequence[Case]) -> list[Claim]:
    """Onset order on each replay view, the staggered one declared before it was measured: the
    defaults alone, then with the onset channel among the candidates (chosen in the inner
    folds), AS@1 and AS@3 by fault type (with the real incidents' outer AS@k) and by hour; then
    each set itself on the 28 real incidents by fault type (the set, not a choice that could fall
    back on the defaults)."""
    out: list[Claim] = []
    for view in VIEWS:
        cases = view_cases(everything, view)
        real = [c for c in cases if c.view == "real"]
        ranks: dict[str, Ranks] = {}
        for k in (1, 3):
            for by in GROUPINGS:
                groups = grouped(cases, by)
                for what, sets in (("fourth pass", ONSET_SETS[:1]), ("+onset order", ONSET_SETS)):
                    estimate = nested(methods(cases, sets, ranks), groups, as_at(k))
                    held = real_outer(estimate, groups) if by == "fault type" else None
                    note = what if held is None else f"{what} (28 real AS@{k} {held:.3f})"
                    out.append(Claim(f"Nezha AS@{k} {view}", note, by, estimate))
            for name, channels in ONSET_SETS:
                estimate = nested(
                    methods(cases, [(name, channels)], ranks),
                    grouped(real, "fault type"),
                    as_at(k),
                )
                out.append(Claim(f"Nezha AS@{k} {view} (28 real)", name, "fault type", estimate))
    return out


# --- the call graph (issue 13, sixth pass; declared before it was measured) ---
# Each family replaces or adds to today's defaults; chosen only in the inner folds against the
# defaults alone, one family at a time and all of them together, on both views; kept only if the
# widened view's outer AS@1 rises by fault type and by hour and the 28 real incidents keep theirs.
GRAPH_SETS: dict[str, frozenset[str]] = {
    # (a) personalised PageRank over the slow links, walking back to who handed slow work on
    "graph rank": DEFAULT_CHANNELS | {"graph_rank"},
    # (b) explanation by subtraction: a late link less the slowness handed to its sender
    "late unexplained": (DEFAULT_CHANNELS - {"late"}) | {"late_unexplained"},
    # (c) a component its slow sender explains ranks no higher than that sender
    "explained": DEFAULT_CHANNELS | {"explained"},
    # second round, declared after the first was measured and before this was: (a) as a
    # re-ranker of the top 3 (a responder's shown answers) instead of a channel
    "graph re-rank": DEFAULT_CHANNELS | {"graph_rerank"},
}


def graph_claims(everything: Sequence[Case]) -> list[Claim]:
    """The call-graph candidates (``GRAPH_SETS``) on each view: the defaults alone, then with
    each candidate (and all of them) among the sets chosen in the inner folds, AS@1 and AS@3 by
    fault type (with the real incidents' outer AS@k) and by hour; then each set itself on the
    28 real incidents, and per held-out fault type (the set itself, AS@1)."""
    out: list[Claim] = []
    defaults = [("defaults", DEFAULT_CHANNELS)]
    offered = [(f"+{name}", [*defaults, (name, s)]) for name, s in GRAPH_SETS.items()]
    offered.append(("+all four", [*defaults, *GRAPH_SETS.items()]))
    for view in VIEWS:
        cases = view_cases(everything, view)
        real = [c for c in cases if c.view == "real"]
        ranks: dict[str, Ranks] = {}
        for k in (1, 3):
            for by in GROUPINGS:
                groups = grouped(cases, by)
                for what, sets in [("defaults", defaults), *offered]:
                    estimate = nested(methods(cases, sets, ranks), groups, as_at(k))
                    held = real_outer(estimate, groups) if by == "fault type" else None
                    note = what if held is None else f"{what} (28 real AS@{k} {held:.3f})"
                    out.append(Claim(f"Nezha AS@{k} {view} graph", note, by, estimate))
            for name, channels in [*defaults, *GRAPH_SETS.items()]:
                estimate = nested(
                    methods(cases, [(name, channels)], ranks), grouped(real, "fault type"), as_at(k)
                )
                out.append(
                    Claim(f"Nezha AS@{k} {view} graph (28 real)", name, "fault type", estimate)
                )
        for name, channels in [*defaults, *GRAPH_SETS.items()]:
            estimate = nested(
                methods(cases, [(name, channels)], ranks), grouped(cases, "fault type"), as_at(1)
            )
            per = ", ".join(f"{f.group} {f.outer_score:.3f}" for f in estimate.folds)
            out.append(
                Claim(f"Nezha AS@1 {view} per type", f"{name}: {per}", "fault type", estimate)
            )
    return out
