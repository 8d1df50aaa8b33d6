"""The services an investigation looks at around the alerting one: what it calls first (nearest
first), then its callers, then the rest of the namespace, each once and never more than asked."""

from __future__ import annotations

from bot.diagnosis.candidates import Candidate, candidates

SHOP = ["cart", "checkout", "frontend", "payments", "recommender", "redis"]
CALLS = {
    "frontend": ["checkout", "recommender"],
    "checkout": ["payments", "cart"],
    "cart": ["redis"],
    "payments": ["checkout"],  # a cycle: payments calls back
}


def test_the_alerting_service_then_what_it_calls_nearest_first_then_its_callers() -> None:
    found = candidates("checkout", SHOP, CALLS, limit=50)
    assert found[0] == Candidate("checkout", "alerting", 0)
    assert found[1:] == [
        Candidate("cart", "calls", 1),
        Candidate("payments", "calls", 1),
        Candidate("redis", "calls", 2),
        Candidate("frontend", "called_by", 1),
        Candidate("recommender", "namespace", None),
    ]


def test_without_dependencies_every_workload_is_a_plain_neighbour() -> None:
    found = candidates("recommender", SHOP, {}, limit=50)
    assert [c.service for c in found] == ["recommender", "cart", "checkout", "frontend",
                                          "payments", "redis"]  # fmt: skip
    assert {c.relation for c in found[1:]} == {"namespace"}


def test_a_large_namespace_is_cut_to_the_limit_keeping_the_call_path() -> None:
    many = [f"svc-{i:03d}" for i in range(500)] + SHOP
    found = candidates("frontend", many, CALLS, limit=5)
    assert [c.service for c in found] == ["frontend", "checkout", "recommender", "cart",
                                          "payments"]  # fmt: skip


def test_a_service_named_only_in_the_dependencies_is_still_a_candidate() -> None:
    # the namespace listing may be cut or forbidden; the configured graph still counts
    found = candidates("frontend", [], CALLS, limit=50)
    assert "redis" in {c.service for c in found}
