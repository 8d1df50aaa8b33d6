"""Nested validation: how every choice in a diagnosis component is made (issue 13).

A *method* is one way of doing a job (a detector configuration, a ranking with or without a
channel, a template miner's settings). It may fit parameters on the items it is given (NAB's one
threshold per corpus) and then produces one *outcome* per item it is tested on (a file's raw NAB
score, an incident's rank, a system's grouping accuracy); ``summarize`` turns a list of outcomes
into the evaluation's score, pooled the way the evaluation pools (NAB sums raw scores before it
normalises; AS@1 counts incidents).

The data come in *groups* that a user's data differs by: NAB categories, loghub systems, Nezha
fault types or hours. The outer estimate holds each group out in turn; inside the rest, every
candidate method is scored by leave-one-group-out (the inner folds), the best is fitted on all of
the rest and only then tested on the held-out group. Pooling those outcomes gives the outer
estimate: a score for *the way choices are made*, on groups no choice saw. The dev score beside it
is the usual one: every method fitted and scored on all groups, the best reported. The gap between
the two is what choosing on the same data flatters.

A component stays only if the outer estimate with it among the candidates beats the one without
it: ``compare`` runs both. Candidates are listed simplest first; a tie keeps the simpler one.

Nothing here knows a data set; it has no dependencies beyond the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

Item = TypeVar("Item")
Fitted = TypeVar("Fitted")
Outcome = TypeVar("Outcome")
In_contra = TypeVar("In_contra", contravariant=True)
Out_co = TypeVar("Out_co", covariant=True)


class Method(Protocol[In_contra, Fitted, Out_co]):
    """One candidate: fits on training items, then gives one outcome per test item."""

    @property
    def name(self) -> str: ...

    def fit(self, train: Sequence[In_contra]) -> Fitted: ...

    def outcomes(self, fitted: Fitted, test: Sequence[In_contra]) -> Sequence[Out_co]: ...


@dataclass(frozen=True)
class Fixed(Generic[Item, Outcome]):
    """A method with nothing to fit: ``outcome`` is computed per item."""

    name: str
    outcome: Callable[[Item], Outcome]

    def fit(self, train: Sequence[Item]) -> None:
        return None

    def outcomes(self, fitted: None, test: Sequence[Item]) -> Sequence[Outcome]:
        return [self.outcome(item) for item in test]


@dataclass(frozen=True)
class OuterFold:
    """One held-out group: which candidate the inner folds chose, its inner score, and the
    held-out group's own score under it."""

    group: str
    chosen: str
    inner_score: float
    outer_score: float


@dataclass(frozen=True)
class Estimate:
    """Dev score beside the outer estimate, with what was chosen where."""

    dev_score: float
    dev_choice: str
    outer_score: float
    folds: tuple[OuterFold, ...]
    dev_scores: Mapping[str, float]  # every candidate fitted and scored on all groups

    @property
    def optimism(self) -> float:
        """How much choosing on the same data flatters: dev less outer."""
        return self.dev_score - self.outer_score

    def choices(self) -> dict[str, int]:
        """How often each candidate was chosen by the inner folds."""
        counts: dict[str, int] = {}
        for fold in self.folds:
            counts[fold.chosen] = counts.get(fold.chosen, 0) + 1
        return counts


class ProtocolError(ValueError):
    """The groups or candidates cannot support nested validation."""


def _flatten(groups: Mapping[str, Sequence[Item]], names: Sequence[str]) -> list[Item]:
    return [item for name in names for item in groups[name]]


def cross_validated(
    method: Method[Item, Fitted, Outcome],
    groups: Mapping[str, Sequence[Item]],
    summarize: Callable[[Sequence[Outcome]], float],
) -> float:
    """Leave-one-group-out score of one method: fitted on the other groups, tested on each in
    turn, outcomes pooled. For a method with nothing to fit it equals the dev score."""
    names = list(groups)
    pooled: list[Outcome] = []
    for held in names:
        rest = [n for n in names if n != held]
        fitted = method.fit(_flatten(groups, rest))
        pooled.extend(method.outcomes(fitted, groups[held]))
    return summarize(pooled)


def nested(
    methods: Sequence[Method[Item, Any, Outcome]],
    groups: Mapping[str, Sequence[Item]],
    summarize: Callable[[Sequence[Outcome]], float],
) -> Estimate:
    """The outer estimate of choosing among ``methods`` (simplest first) by inner
    leave-one-group-out, beside the dev score of choosing on everything."""
    if not methods:
        raise ProtocolError("nested validation needs at least one candidate")
    names = [n for n, items in groups.items() if items]
    if len(names) < 3:
        raise ProtocolError(f"nested validation needs >= 3 non-empty groups, got {len(names)}")
    labels = [m.name for m in methods]
    if len(set(labels)) != len(labels):
        raise ProtocolError("candidate names must be distinct")
    kept = {n: groups[n] for n in names}

    everything = _flatten(kept, names)
    dev_scores = {m.name: summarize(m.outcomes(m.fit(everything), everything)) for m in methods}
    dev_choice = _best(labels, dev_scores)

    folds: list[OuterFold] = []
    pooled: list[Outcome] = []
    for held in names:
        inner = {n: kept[n] for n in names if n != held}
        inner_scores = {m.name: cross_validated(m, inner, summarize) for m in methods}
        chosen_name = _best(labels, inner_scores)
        chosen = methods[labels.index(chosen_name)]
        outcomes = chosen.outcomes(chosen.fit(_flatten(inner, list(inner))), kept[held])
        pooled.extend(outcomes)
        folds.append(OuterFold(held, chosen_name, inner_scores[chosen_name], summarize(outcomes)))
    return Estimate(
        dev_score=dev_scores[dev_choice],
        dev_choice=dev_choice,
        outer_score=summarize(pooled),
        folds=tuple(folds),
        dev_scores=dev_scores,
    )


@dataclass(frozen=True)
class Comparison:
    """Whether a component earns its place: the outer estimate with and without it."""

    without: Estimate
    with_: Estimate

    @property
    def keeps(self) -> bool:
        return self.with_.outer_score > self.without.outer_score


def compare(
    without: Sequence[Method[Item, Any, Outcome]],
    with_: Sequence[Method[Item, Any, Outcome]],
    groups: Mapping[str, Sequence[Item]],
    summarize: Callable[[Sequence[Outcome]], float],
) -> Comparison:
    """Nested estimates of two candidate sets (``with_`` adds the component's variants to
    ``without``); the component stays only if the outer estimate rises."""
    return Comparison(nested(without, groups, summarize), nested(with_, groups, summarize))


def _best(labels: Sequence[str], scores: Mapping[str, float]) -> str:
    """The highest score; on a tie the earlier (simpler) candidate."""
    best = labels[0]
    for label in labels[1:]:
        if scores[label] > scores[best]:
            best = label
    return best


@dataclass(frozen=True)
class Claim:
    """One line of the report: a score the docs state, its dev value beside its outer estimate.
    ``baseline`` marks an anchor measured in the same run (Drain3 defaults, a published method)."""

    area: str  # the evaluation: "NAB standard", "Nezha AS@1", ...
    what: str  # the method or candidate set the estimate is for
    groups: str  # what the folds are: "category", "system", "fault type", "hour"
    estimate: Estimate
    baseline: bool = False
