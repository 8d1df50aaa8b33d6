"""Root-cause ranking: the component with new errors, a shifted log mix or deviating metrics
leads, and says why; the usual noise of a component does not."""

from __future__ import annotations

from collections import Counter

from knowledge.ranking import ComponentWindow, Features, features, rank

QUIET = {"INFO served request": 60}


def window(name: str, current: dict[str, int], **extra: object) -> ComponentWindow:
    return ComponentWindow(
        name=name,
        baseline_templates=Counter(QUIET),
        current_templates=Counter(current),
        baseline_minutes=1,
        current_minutes=1,
        **extra,  # type: ignore[arg-type]
    )


def test_new_error_templates_lead_and_are_named_in_the_evidence() -> None:
    found = {
        "payments": features(window("payments", {**QUIET, "ERROR card service timeout": 12})),
        "cart": features(window("cart", QUIET)),
    }
    top, other = rank(found)
    assert top.component == "payments"
    assert "1 new or surging error templates: ERROR card service timeout" in top.evidence[0]
    assert other.score < top.score


def test_a_code_path_that_stops_logging_shows_as_a_mix_shift() -> None:
    normal = {"INFO query start": 30, "INFO query done": 30}
    stopped = Counter({"INFO query start": 30, "INFO query done": 3})
    broken = ComponentWindow("route", Counter(normal), stopped, 1, 1)
    steady = ComponentWindow("price", Counter(normal), Counter(normal), 1, 1)
    ranked = rank({"route": features(broken), "price": features(steady)})
    assert ranked[0].component == "route"
    assert any("log template mix shifted" in e for e in ranked[0].evidence)


def test_metric_deviation_with_its_first_time() -> None:
    cpu = ([20.0, 21.0, 19.0, 20.5, 20.0], [(100.0, 20.0), (160.0, 85.0), (220.0, 90.0)])
    found = features(window("food", QUIET, metrics={"cpu": cpu}))
    assert found.first_deviation == 160.0
    assert found.evidence[-1].startswith("cpu +")


def test_a_component_that_is_always_noisy_is_measured_against_its_own_history() -> None:
    noisy = Features(50.0, 5.0, 10.0, None, ("noise",), ())
    history = [
        {
            "noisy": Features(48.0 + i, 5.0, 10.0, None, (), ()),
            "db": Features(0, 0, 0, None, (), ()),
        }
        for i in range(5)
    ]
    current = {"noisy": noisy, "db": Features(3.0, 0.5, 4.0, None, ("db errors",), ())}
    assert rank(current)[0].component == "noisy"  # without history the loudest wins
    assert rank(current, history)[0].component == "db"


def test_of_two_close_candidates_the_earliest_deviation_leads() -> None:
    late = Features(10.0, 1.0, 5.0, 200.0, ("late",), ())
    early = Features(9.9, 1.0, 5.0, 100.0, ("early",), ())
    assert [r.component for r in rank({"caller": late, "callee": early})] == ["callee", "caller"]
