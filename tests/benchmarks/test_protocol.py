"""The nested-validation protocol (issue 13): the outer estimate never sees its held-out group,
so a method that only memorises what it was fitted on scores well on dev and nothing outer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from benchmarks.generalization.protocol import Fixed, ProtocolError, compare, nested

GROUPS = {"a": [1, 2, 3], "b": [4, 5], "c": [6, 7], "d": [8]}


@dataclass(frozen=True)
class Memoriser:
    """Right on every item it was fitted on, wrong on every other: pure overfitting."""

    name: str = "memoriser"

    def fit(self, train: Sequence[int]) -> frozenset[int]:
        return frozenset(train)

    def outcomes(self, fitted: frozenset[int], test: Sequence[int]) -> list[float]:
        return [1.0 if item in fitted else 0.0 for item in test]


def mean(outcomes: Sequence[float]) -> float:
    return sum(outcomes) / len(outcomes)


def test_the_outer_estimate_exposes_a_choice_that_only_fits_what_it_saw() -> None:
    honest = Fixed[int, float]("half", lambda item: 0.5)
    estimate = nested([honest, Memoriser()], GROUPS, mean)
    assert estimate.dev_choice == "memoriser"
    assert estimate.dev_score == 1.0
    assert estimate.choices() == {"half": 4}  # the inner folds saw through it every time
    assert estimate.outer_score == 0.5
    assert estimate.optimism == 0.5


def test_the_memoriser_alone_scores_nothing_on_groups_it_never_saw() -> None:
    estimate = nested([Memoriser()], GROUPS, mean)
    assert estimate.dev_score == 1.0
    assert estimate.outer_score == 0.0
    assert [f.group for f in estimate.folds] == ["a", "b", "c", "d"]


def test_a_component_stays_only_if_the_outer_estimate_rises() -> None:
    base = [Fixed[int, float]("half", lambda item: 0.5)]
    verdict = compare(base, [*base, Memoriser()], GROUPS, mean)
    assert not verdict.keeps  # dev would have kept it: 1.0 against 0.5
    better = compare(base, [*base, Fixed[int, float]("more", lambda item: 0.75)], GROUPS, mean)
    assert better.keeps


def test_a_tie_keeps_the_simpler_candidate_listed_first() -> None:
    first, second = Fixed[int, float]("simple", float), Fixed[int, float]("fancy", float)
    assert nested([first, second], GROUPS, mean).choices() == {"simple": 4}


def test_fewer_than_three_groups_cannot_be_nested() -> None:
    with pytest.raises(ProtocolError, match=">= 3 non-empty groups"):
        nested([Memoriser()], {"a": [1], "b": [2], "c": []}, mean)
