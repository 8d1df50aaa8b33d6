"""Which origin is worth planning on: another service than the alerting one, clearly implicated
and seen to deviate at a known time - not a quiet service that merely scored highest; and an
origin the alerting service calls is a slow dependency of it, a mere neighbour is not."""

from __future__ import annotations

from bot.diagnosis.assembly import with_context
from bot.diagnosis.at_origin import OriginLook, downstream_advice, origin_elsewhere
from bot.diagnosis.candidates import Candidate, Relation
from bot.diagnosis.hypotheses import Hypothesis
from bot.diagnosis.origins import Origins
from knowledge.origins import Origin
from knowledge.ranking import RankedCause
from tests.bot.test_conversation import CATALOG, investigation


def ranked(*causes: RankedCause) -> Origins:
    return Origins([Origin(c) for c in causes], {}, frozenset())


def cause(name: str, part: float, began: float | None = 100.0) -> RankedCause:
    return RankedCause(name, part, [], began, {"latency": part})


def test_a_clearly_abnormal_leader_elsewhere_is_the_origin() -> None:
    found = origin_elsewhere(ranked(cause("checkout", 3.0), cause("frontend", 2.0)), "frontend")
    assert found is not None and found.service == "checkout"


def test_no_origin_elsewhere_when_the_alerting_service_leads_or_the_leader_is_no_case() -> None:
    assert (
        origin_elsewhere(ranked(cause("frontend", 3.0), cause("checkout", 2.0)), "frontend") is None
    )
    assert origin_elsewhere(ranked(cause("checkout", 0.5)), "frontend") is None  # not clear
    assert origin_elsewhere(ranked(cause("checkout", 3.0, began=None)), "frontend") is None
    assert origin_elsewhere(ranked(), "frontend") is None


def look(service: str) -> OriginLook:
    return OriginLook(service, [], None, [], [], [], [])


def origins_around(relation: Relation, passed: bool = True) -> Origins:
    return Origins(
        [
            Origin(cause("checkout", 3.0)),
            Origin(cause("frontend", 2.0), "checkout" if passed else None),
        ],
        {
            "frontend": Candidate("frontend", "alerting", 0),
            "checkout": Candidate("checkout", relation, 1 if relation == "calls" else None),
        },
        frozenset({"frontend", "checkout"}),
    )


def weighed(relation: Relation) -> list[Hypothesis]:
    found = investigation(origins=origins_around(relation), at_origin=look("checkout"))
    return with_context(
        found, changes=[], change_note="", corrections={}, catalog=CATALOG, min_similarity=0.45
    ).hypotheses


def test_an_origin_the_alerting_service_calls_is_a_slow_dependency_of_it() -> None:
    [dependency] = weighed("calls")
    assert dependency.cause == "dependency-timeout" and dependency.score >= 0.35
    assert dependency.summary == (
        "checkout, which frontend calls, deviated first and leads the ranking of the services "
        "around it"
    )


def test_an_origin_that_is_only_a_neighbour_is_no_dependency() -> None:
    assert weighed("namespace") == []


def test_the_alerting_service_is_told_acting_on_it_would_not_help_only_on_a_known_call_path() -> (
    None
):
    calls = downstream_advice(origins_around("calls", passed=False), "frontend", "checkout")
    assert calls.startswith(
        "frontend is affected downstream of checkout: acting on frontend would not help"
    )
    passed = downstream_advice(origins_around("namespace", passed=True), "frontend", "checkout")
    assert passed == calls  # the call-path rule passed frontend on the way to checkout
    unlinked = downstream_advice(origins_around("namespace", passed=False), "frontend", "checkout")
    assert "would not help" not in unlinked and "no call from frontend to checkout" in unlinked
