"""Which origin is worth planning on: another service than the alerting one, clearly implicated
and seen to deviate at a known time - not a quiet service that merely scored highest."""

from __future__ import annotations

from bot.diagnosis.at_origin import origin_elsewhere
from bot.diagnosis.origins import Origins
from knowledge.origins import Origin
from knowledge.ranking import RankedCause


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
