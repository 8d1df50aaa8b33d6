"""The root-cause claims of the generalisation protocol (issue 13): a channel joins the defaults
only if the outer estimate rises with it on held-out fault types and hours; one that changes
nothing stays out."""

from __future__ import annotations

from benchmarks.generalization.rca import Case, CaseParts, Learned, as_at, selection
from knowledge.ranking import Features

SERVICES = ("route", "price", "seat")


def features(flow: float, flow_untimed: float) -> Features:
    return Features(
        channels={"errors": 0.0, "drops": 0.0, "flow": flow, "flow_untimed": flow_untimed},
        first_deviation=None,
        evidence=(),
        abnormal_templates=(),
    )


def case(number: int) -> Case:
    """The root answers late and its caller logs the timeout: the timed blame points at the
    root, issue 4's untimed blame at the caller."""
    root = SERVICES[number % 3]
    caller = SERVICES[(number + 1) % 3]
    found = {
        name: features(10.0 if name == root else 0.0, 10.0 if name == caller else 0.0)
        for name in SERVICES
    }
    fault = ("exception", "return", "delay")[number % 3]
    return Case(f"i{number}", fault, f"{8 + number // 3:02d}", root, f"i{number}", "", found)


def test_the_timed_blame_is_kept_and_a_component_that_changes_nothing_is_dropped() -> None:
    cases = [case(n) for n in range(9)]
    steps = {step.name: step for step in selection(cases, {})}
    timed = steps["timed flow"]
    assert timed.keeps
    for result in timed.results.values():
        assert result.without.outer_score == 0.0  # issue 4's blame names the caller every time
        assert result.with_.outer_score == 1.0
    assert not steps["pooled delay"].keeps  # no delay evidence anywhere: nothing to gain


def test_as_at_k_counts_ranks_within_k_and_unranked_as_misses() -> None:
    assert as_at(1)([1, 2, None, 1]) == 0.5
    assert as_at(3)([1, 2, None, 4]) == 0.5
    assert as_at(1)([]) == 0.0


def test_a_channel_that_finds_replayed_delays_but_loses_real_incidents_is_dropped() -> None:
    def found(**channels: float) -> Features:
        return Features({"errors": 0.0, **channels}, None, (), ())

    real = []
    for n in range(9):  # the root logs new errors; in one incident another's links are slow
        root, laggard = SERVICES[n % 3], SERVICES[(n + 1) % 3] if n == 0 else ""
        features_ = {
            s: found(errors=10.0 if s == root else 0.0, late_raw=20.0 if s == laggard else 0.0)
            for s in SERVICES
        }
        fault = ("exception", "return", "cpu_contention")[n % 3]
        real.append(Case(f"i{n}", fault, f"{8 + n // 3:02d}", root, f"i{n}", "", features_))
    replayed = [  # a delayed seat service: only its slow links show it
        Case(
            f"{c.id}/{kind}",
            kind,
            c.hour,
            "seat",
            c.host,
            c.root,
            {s: found(late_raw=20.0 if s == "seat" else 0.0) for s in SERVICES},
        )
        for c in real
        for kind in ("delay", "timeout")
        if c.root != "seat"
    ]
    steps = {step.name: step for step in selection([*real, *replayed], {})}
    late = steps["late links"]
    assert all(r.keeps for r in late.results.values())  # it finds the delays on both groupings
    assert late.real is not None and late.real.with_.outer_score < late.real.without.outer_score
    assert not late.keeps


def test_a_learned_combination_weighs_the_channel_that_named_the_root_in_its_training_cases() -> (
    None
):
    # in every case the root's flow blame is modest and a bystander's CPU deviates more: the
    # additive fusion names the bystander; a combination fitted on other cases learns that
    # flow names the root and CPU does not, and ranks the held-out cases' root first
    services = ("route", "price", "seat")
    cases, parts = [], {}
    for n in range(12):
        root, bystander = services[n % 3], services[(n + 1) % 3]
        rows = tuple(
            (2.0 if s == root else 0.0, 3.0 if s == bystander else 0.5 * (n % 2)) for s in services
        )
        cases.append(Case(f"i{n}", ("a", "b", "c")[n % 3], "08", root, f"i{n}", "", {}))
        parts[f"i{n}"] = CaseParts(services, rows, root)
    learned = Learned("learned", parts)
    train, test = cases[:8], cases[8:]
    assert learned.outcomes(learned.fit(train), test) == [1, 1, 1, 1]
    additive = [
        sorted(services, key=lambda s: -sum(parts[c.id].rows[services.index(s)])) for c in test
    ]
    assert all(order[0] != c.root for order, c in zip(additive, test, strict=True))
