"""How a past incident is scored against the current one (``knowledge.matching``): pure, no
store. The memory tests (``test_memory.py``) run the same scoring through Chroma."""

from __future__ import annotations

import pytest

from knowledge.matching import (
    ISSUE4_WEIGHTS,
    PROFILE_WIDTH,
    Query,
    TemplateRarity,
    evidence_key,
    evidence_profile,
    evidence_similarity,
    score_match,
    shown,
    slotted_order,
    suspects_of,
)
from knowledge.ranking import RankedCause
from knowledge.records import IncidentRecord, SimilarIncident

TIMEOUT = "ERROR c.s.OrderServiceImpl#88 [create][call to <*> timed out after <DURATION>]"
REFUSED = "ERROR c.s.PaymentClient#12 [pay][connection refused]"


def record(
    rid: str, service: str, templates: list[str], evidence: dict[str, float]
) -> IncidentRecord:
    return IncidentRecord(
        id=rid,
        title=f"{service} incident",
        service=service,
        templates=templates,
        evidence=evidence,
        root_cause="network delay",
        cause="network-delay",
    )


def test_a_past_incident_with_the_same_evidence_ranks_first_when_the_suspect_is_a_victim() -> None:
    # a delay on ts-route slows its callers: the ranking blames ts-order (a victim), and the
    # log templates of this window were never seen before
    profile = {
        evidence_key("ts-order", "delay"): 2.0,
        evidence_key("ts-travel", "delay"): 1.5,
        evidence_key("ts-route", "flow"): 0.5,
    }
    query = Query(
        "ts-order", ["ERROR c.s.OrderServiceImpl#90 [create][unexpected reply]"], evidence=profile
    )
    same_fault = record(
        "route-delay", "ts-route", [TIMEOUT], {**profile, evidence_key("ts-order", "delay"): 1.6}
    )
    other = record(
        "payment-down", "ts-payment", [REFUSED], {evidence_key("ts-payment", "errors"): 3.0}
    )
    rarity = TemplateRarity([same_fault.templates, other.templates])
    scores = {r.id: score_match(r, 0.5, query, rarity).similarity for r in (same_fault, other)}
    assert scores["route-delay"] > scores["payment-down"]
    match = score_match(same_fault, 0.5, query, rarity)
    assert "same kinds of evidence on the same services" in match.explanation


def test_a_part_that_cannot_be_judged_does_not_lower_the_similarity() -> None:
    # no namespace given and no evidence profile on either side: an identical incident is still
    # 1.0 similar (issue 4's scoring gave it 0.95: the namespace's share was lost)
    past = record("same", "checkout", [TIMEOUT], {}).model_copy(
        update={"abnormal_metrics": ["p99_latency_seconds"]}
    )
    query = Query("checkout", [TIMEOUT], ["p95_latency_seconds"])
    rarity = TemplateRarity([past.templates])
    assert score_match(past, 1.0, query, rarity).similarity == 1.0
    assert score_match(past, 1.0, query, rarity, ISSUE4_WEIGHTS).similarity == 1.0


def test_evidence_profiles_compare_by_kind_and_place_not_loudness() -> None:
    quiet = {evidence_key("a", "delay"): 1.0, evidence_key("b", "errors"): 0.5}
    loud = {k: 10 * v for k, v in quiet.items()}
    elsewhere = {evidence_key("c", "delay"): 1.0}
    assert evidence_similarity(quiet, loud) == 1.0
    assert evidence_similarity(quiet, elsewhere) == 0.0
    assert evidence_similarity(quiet, {}) == 0.0


def test_the_profile_holds_each_suspects_channels_that_implicate_it() -> None:
    ranking = [
        RankedCause("ts-order", 3.0, [], None, {"delay": 2.0, "errors": 1.0}),
        RankedCause("ts-travel", 1.0, [], None, {"flow": 1.0}),
        RankedCause("ts-news", 0.5, [], None, {"saturation": 0.5}),
    ]
    assert evidence_profile(ranking, 2) == {
        "ts-order delay": 2.0,
        "ts-order errors": 1.0,
        "ts-travel flow": 1.0,
    }


def test_the_same_fault_on_other_services_outscores_a_runner_up_suspects_other_fault() -> None:
    # a silent delay slows two callers and thins the flow below them; the past incident of the
    # same kind happened on other services (the shape of its neighbourhood is the same), while
    # the runner-up suspect's own past incident was an error burst. The protocol's choice
    # (docs/benchmarks.md, "Similar incidents") weighs the shape; the equal weights shipped
    # before did not, and ranked the suspect's incident first
    query = Query(
        "ts-order",
        [],
        suspects={"ts-order": 1.0, "ts-travel": 0.9},
        evidence={"ts-order delay": 1.4, "ts-travel delay": 1.1, "ts-basic flow": 0.5},
    )
    same_kind = record(
        "seat-delay",
        "ts-seat",
        [],
        {"ts-seat delay": 1.5, "ts-config delay": 1.2, "ts-station flow": 0.4},
    )
    errors = record("travel-errors", "ts-travel", [], {"ts-travel errors": 2.0})
    rarity = TemplateRarity([])
    seat = score_match(same_kind, 0.5, query, rarity)
    travel = score_match(errors, 0.5, query, rarity)
    assert seat.similarity > travel.similarity
    assert "same mix of evidence around it" in seat.explanation
    assert "same mix of evidence around it" not in travel.explanation


def test_a_record_kept_with_a_wider_profile_is_compared_on_its_leading_services() -> None:
    # records kept before the profile narrowed to the protocol's width hold more services: they
    # are matched on their top PROFILE_WIDTH by evidence, as a record kept now would be
    ranking = [
        RankedCause(f"ts-{k}", 9.0 - k, [], None, {"delay" if k < 3 else "errors": 9.0 - k})
        for k in range(9)
    ]
    now = evidence_profile(ranking, PROFILE_WIDTH)
    wide = record("wide", "ts-0", [], evidence_profile(ranking, PROFILE_WIDTH + 3))
    narrow = record("narrow", "ts-0", [], evidence_profile(ranking, PROFILE_WIDTH))
    query = Query("ts-0", [], evidence=now)
    rarity = TemplateRarity([])
    assert score_match(wide, 0.5, query, rarity).similarity == pytest.approx(
        score_match(narrow, 0.5, query, rarity).similarity
    )


def test_a_past_incident_of_the_runner_up_suspect_counts_by_its_share_of_the_lead() -> None:
    # the ranking leads with ts-order (a victim) and has ts-route at 0.8 of its score: a past
    # incident of ts-route is still in the same place, by that share; one of a service the
    # ranking does not suspect is not
    ranking = [
        RankedCause("ts-order", 5.0, [], None),
        RankedCause("ts-route", 4.0, [], None),
        RankedCause("ts-travel", 1.0, [], None),
    ]
    query = Query("ts-order", [TIMEOUT], suspects=suspects_of(ranking, 3))
    rarity = TemplateRarity([[TIMEOUT]])
    route = score_match(record("route", "ts-route", [TIMEOUT], {}), 0.5, query, rarity)
    payment = score_match(record("payment", "ts-payment", [TIMEOUT], {}), 0.5, query, rarity)
    assert route.similarity > payment.similarity
    assert "ts-route is suspected too (0.80 of the leader)" in route.explanation
    assert "suspected" not in payment.explanation


def test_the_order_shown_keeps_the_best_match_first_and_every_second_place_for_the_text() -> None:
    # similarity and text of five past incidents: the first leads on both, the fourth is the
    # one described most alike after it but the suspects point elsewhere
    similarity = [0.9, 0.8, 0.7, 0.3, 0.6]
    text = [0.95, 0.5, 0.5, 0.9, 0.4]
    order = slotted_order(similarity, text, 2)
    assert order == [0, 3, 1, 2, 4]  # every incident once; the leader stays first
    assert slotted_order(similarity, text, 0) == [0, 1, 2, 4, 3]


def test_the_matches_listed_are_the_slots_but_in_falling_order_of_the_similarity_shown() -> None:
    # the same five incidents: the slot brings the fourth (0.3, described most alike) into the
    # first three; it is listed last, under the higher scores, and says what it displaced
    similarity = [0.9, 0.8, 0.7, 0.3, 0.6]
    text = [0.95, 0.5, 0.5, 0.9, 0.4]
    matches = [
        SimilarIncident(
            record=record(f"INC-{i}", "cart", [], {}),
            similarity=s,
            embedding_similarity=t,
            shared_templates=[],
            explanation=f"text similarity {t:.2f}",
        )
        for i, (s, t) in enumerate(zip(similarity, text, strict=True))
    ]
    listed = shown(matches, 3)
    assert [m.record.id for m in listed] == ["INC-0", "INC-1", "INC-3"]
    assert [m.similarity for m in listed] == [0.9, 0.8, 0.3]
    assert listed[2].explanation.endswith(
        "listed for its text: described most like this incident of the rest, though a match "
        "scoring 0.70 is not listed"
    )
    assert all("listed for its text" not in m.explanation for m in listed[:2])
    # with room for every match the list is the combined score's order, and nothing is noted
    everything = shown(matches, 5)
    assert [m.similarity for m in everything] == [0.9, 0.8, 0.7, 0.6, 0.3]
    assert all("listed for its text" not in m.explanation for m in everything)


def test_the_place_after_the_text_goes_to_the_most_alike_neighbourhood() -> None:
    # the same five incidents; the fifth scores low and reads unlike, but the evidence around
    # every ranked service was the most alike: it takes the third place, the leader stays first
    similarity = [0.9, 0.8, 0.7, 0.3, 0.6]
    text = [0.95, 0.5, 0.5, 0.9, 0.4]
    neighbourhood = [0.2, 0.1, 0.3, 0.0, 0.8]
    assert slotted_order(similarity, text, 2, neighbourhood) == [0, 3, 4, 1, 2]
    assert slotted_order(similarity, text, 2) == [0, 3, 1, 2, 4]


def test_a_match_listed_for_the_evidence_around_it_says_so() -> None:
    similarity = [0.9, 0.8, 0.7, 0.3, 0.6]
    text = [0.95, 0.5, 0.5, 0.9, 0.4]
    around = [0.2, 0.1, 0.3, None, 0.8]  # an old record kept no neighbourhood
    matches = [
        SimilarIncident(
            record=record(f"INC-{i}", "cart", [], {}),
            similarity=s,
            embedding_similarity=t,
            shared_templates=[],
            explanation=f"text similarity {t:.2f}",
            neighbourhood_similarity=a,
        )
        for i, (s, t, a) in enumerate(zip(similarity, text, around, strict=True))
    ]
    listed = shown(matches, 3)
    assert [m.record.id for m in listed] == ["INC-0", "INC-4", "INC-3"]
    assert listed[1].explanation.endswith(
        "listed for the evidence around it: the services the ranking weighed showed the most "
        "alike evidence of the rest (0.80), though 2 matches scoring up to 0.80 are not listed"
    )
    assert "listed for its text" in listed[2].explanation
    assert "evidence around it" not in listed[0].explanation
