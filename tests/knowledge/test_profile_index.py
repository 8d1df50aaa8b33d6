"""The profile index finds the incidents whose evidence looked most alike, whatever their text."""

from __future__ import annotations

from knowledge.profile_index import ProfileIndex


def test_the_incidents_whose_evidence_looked_most_alike_come_first() -> None:
    index = ProfileIndex(
        {
            "INC-ROUTE": {"ts-order delay": 1.5, "ts-travel delay": 1.0},
            "INC-CPU": {"ts-order saturation": 2.0},
            "INC-MIXED": {"ts-order delay": 1.0, "ts-order saturation": 1.0},
            "INC-OLD": {},  # kept before profiles: never a profile candidate
        }
    )
    assert index.nearest({"ts-order delay": 1.4, "ts-travel delay": 1.1}, 5) == [
        "INC-ROUTE",
        "INC-MIXED",
    ]
    assert index.nearest({"ts-order delay": 1.4}, 1) == ["INC-ROUTE"]
    assert index.nearest({"ts-basic errors": 1.0}, 5) == []  # nothing shared: no candidate
    assert len(index) == 3


def test_a_stored_profile_with_nan_or_infinity_does_not_stop_the_search() -> None:
    index = ProfileIndex(
        {"INC-BAD": {"ts-order delay": float("nan")}, "INC-OK": {"ts-order delay": 1.0}}
    )
    assert index.nearest({"ts-order delay": float("inf"), "ts-travel delay": 1.0}, 3) == []
    assert index.nearest({"ts-order delay": 2.0}, 3) == ["INC-OK"]
