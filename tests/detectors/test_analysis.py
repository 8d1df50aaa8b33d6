"""The alert path: a baseline, a suspect window, and the findings a user reads in the thread."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detectors import DEFAULT_ENSEMBLE, Direction, FindingRules, Series, detect_anomalies
from tests.detectors.signals import STEP, noise, series, times, with_shift, with_spike

RULES = FindingRules()
SPLIT = 200 * STEP


def detect(*many: Series, split: float = SPLIT) -> list:
    return detect_anomalies(list(many), split, DEFAULT_ENSEMBLE, RULES)


def test_level_shift_is_found_with_its_start_direction_and_magnitude() -> None:
    [finding] = detect(series(with_shift(noise(300), 240, 3.0)))
    assert finding.direction is Direction.UP
    assert finding.start == 240 * STEP
    assert finding.magnitude == pytest.approx(3.0, rel=0.05)
    assert finding.confidence > 0.9
    assert finding.details["surprise"] > 5


def test_drop_is_reported_as_down() -> None:
    [finding] = detect(series(with_shift(noise(300), 240, 0.4)))
    assert finding.direction is Direction.DOWN
    assert finding.magnitude == pytest.approx(0.4, rel=0.05)


def test_single_spike_is_not_sustained_and_not_reported() -> None:
    assert detect(series(with_spike(noise(300), 260, 10.0))) == []


def test_noise_alone_is_not_an_anomaly() -> None:
    assert detect(series(noise(400, sigma=0.05)), split=300 * STEP) == []


def test_flat_baseline_then_step_is_found() -> None:
    values = np.concatenate([np.full(200, 5.0), np.full(20, 9.0)])
    [finding] = detect(series(values), split=190 * STEP)
    assert finding.start == 200 * STEP and finding.observed == 9.0


def test_flat_line_throughout_is_normal() -> None:
    assert detect(series(np.full(300, 3.0)), split=250 * STEP) == []


def test_small_change_below_min_relative_change_is_ignored() -> None:
    values = with_shift(noise(300, sigma=0.001), 240, 1.03)
    assert detect(series(values)) == []


def test_too_little_baseline_gives_no_finding() -> None:
    values = with_shift(noise(60), 20, 4.0)
    assert detect(series(values), split=15 * STEP) == []


def test_findings_are_ordered_by_start() -> None:
    late = series(with_shift(noise(300, seed=3), 260, 5.0), "late")
    early = series(with_shift(noise(300, seed=4), 220, 5.0), "early")
    assert [f.metric for f in detect(late, early)] == ["early", "late"]


def test_a_slow_trend_away_from_the_baseline_is_found() -> None:
    values = noise(400, sigma=0.01)
    values[250:] *= np.linspace(1.0, 1.6, 150)
    [finding] = detect(series(values), split=250 * STEP)
    assert finding.direction is Direction.UP
    assert finding.start < 330 * STEP  # found before the end, once the drift is significant


def test_label_values_explaining_the_change_get_their_share() -> None:
    parts = {"a": noise(300, 10.0, seed=11), "b": noise(300, 10.0, seed=12)}
    parts["c"] = with_shift(noise(300, 10.0, seed=13), 240, 9.0)  # +80 of the +80 total
    total = series(sum(parts.values()), "request_rate")
    pods = [Series.of("request_rate", times(300), v, {"pod": name}) for name, v in parts.items()]
    [finding] = detect(total, *pods)  # the pods are breakdowns, not findings of their own
    assert finding.labels == {}
    top = finding.attribution[0]
    assert top.labels == {"pod": "c"} and top.share > 0.9
    assert sum(c.share for c in finding.attribution) == pytest.approx(1.0)


def test_breakdowns_keep_the_labels_they_share_with_the_whole() -> None:
    whole = Series.of("lat", times(300), with_shift(noise(300), 240, 3.0), {"region": "eu"})
    part = Series.of(
        "lat", times(300), with_shift(noise(300), 240, 3.0), {"region": "eu", "pod": "p"}
    )
    [finding] = detect(whole, part)
    assert finding.labels == {"region": "eu"}
    assert finding.attribution[0].labels == {"pod": "p"}


def test_metrics_moving_together_get_the_joint_detector_s_evidence() -> None:
    base = [noise(300, seed=s) for s in range(20, 24)]
    moved = [with_shift(v, 240, 1.6) for v in base]
    found = detect(*(series(v, f"m{i}") for i, v in enumerate(moved)))
    assert len(found) == 4
    assert all(f.details.get("surprise_isolation_forest", 0) > 0 for f in found)


def test_without_the_joint_member_there_is_no_joint_evidence() -> None:
    config = DEFAULT_ENSEMBLE.only("rarity")
    moved = [series(with_shift(noise(300, seed=s), 240, 2.0), f"m{s}") for s in range(3)]
    found = detect_anomalies(moved, SPLIT, config, RULES)
    assert found and all("surprise_isolation_forest" not in f.details for f in found)


finite_or_not = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e300, 1e300),
    st.just(0.0),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 320).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=st.floats(-1e4, 1e4)),
            arrays(np.float64, n, elements=finite_or_not),
        )
    ),
    st.floats(-1e4, 1e4),
)
def test_bad_input_never_raises(points: tuple[np.ndarray, np.ndarray], split: float) -> None:
    stamps, values = points
    unsorted = Series("m", stamps * STEP, values)  # built without cleaning: disorder, dupes, NaN
    with np.errstate(over="ignore"):
        huge = values * 1e280
    copies = [unsorted, Series("m2", stamps * STEP, values), Series("m3", stamps, huge)]
    for finding in detect_anomalies(copies, split * STEP, DEFAULT_ENSEMBLE, RULES):
        assert np.isfinite([finding.start, finding.end, finding.magnitude]).all()
        assert 0 <= finding.confidence <= 1


def test_single_point_and_empty_series_give_nothing() -> None:
    assert detect(Series.of("m", [1.0], [1.0]), Series.of("e", [], [])) == []
