"""`medic eval scenarios` runs: each run stands alone, and a victim's origin is measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.evaluation.scenarios import ScenarioResult, is_fix, run_suite, summarise
from knowledge.embeddings import MiniLMEmbedding
from tools.actions import Action
from tools.sim import SCENARIOS

pytestmark = pytest.mark.slow


def test_a_varied_copy_is_investigated_as_its_own_incident(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    """A copy's alert has the same labels as the original's: sharing one state database, it
    joined the original's open incident and was judged from a day earlier (the whole 6 h the
    window may span), not as the variation it is."""
    first, copy = run_suite([SCENARIOS["cache-stampede"]], Settings(data_dir=tmp_path), embedder, 1)
    assert copy.name == "cache-stampede~1"
    assert first.window_minutes < 60
    assert abs(copy.window_minutes - first.window_minutes) < 10


def test_a_victim_is_scored_on_its_origin(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    """frontend pages; the delay is on checkout: the origin ranked first is checkout, and the
    result says where it was expected."""
    (result,) = run_suite([SCENARIOS["slow-dependency"]], Settings(data_dir=tmp_path), embedder)
    assert result.origin == "checkout"
    assert result.origins[0]["service"] == "checkout"
    assert result.origin_rank == 1
    assert {"frontend": "checkout"}.items() <= {
        o["service"]: o["downstream_of"] for o in result.origins
    }.items()
    assert result.to_json()["origin_rank"] == 1


def _result(name: str, origin_rank: int | None) -> ScenarioResult:
    return ScenarioResult(name, "restart", "scale", (), [], [], 1, 1, 0.0, origin_rank=origin_rank)


def test_the_summary_counts_the_origin_at_one_and_three() -> None:
    summary = summarise([_result("a", 1), _result("b", 2), _result("c", None), _result("d", 4)])
    assert summary["origin"] == {"top1": 0.25, "top3": 0.5}


@pytest.mark.parametrize(
    ("action", "counts"),
    [
        (Action("restart", "shop", "checkout"), True),  # the fix, where the fault started
        (Action("restart", "shop", "frontend"), False),  # the fix, on the service that paged
        (Action("scale", "shop", "checkout", {"replicas": 8}), False),  # not the fix
    ],
)
def test_a_victims_fix_counts_on_its_origin(action: Action, counts: bool) -> None:
    assert is_fix(action, SCENARIOS["slow-dependency"], replicas=4) is counts


def test_a_scale_out_counts_only_when_it_adds_replicas() -> None:
    saturated = SCENARIOS["saturated-upstream"]
    assert is_fix(Action("scale", "shop", "checkout", {"replicas": 8}), saturated, replicas=4)
    assert not is_fix(Action("scale", "shop", "checkout", {"replicas": 4}), saturated, replicas=4)
    assert not is_fix(Action("scale", "shop", "frontend", {"replicas": 12}), saturated, replicas=4)
