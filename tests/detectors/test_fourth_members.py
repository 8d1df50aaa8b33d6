"""The members of the fourth NAB pass (issue 13): adaptive resonance over downsampled windows,
a conformal k-NN and rarity judged against the recent level. Each catches what it is for, stays
quiet on what it should take as normal, and is accepted by the ensemble's configuration."""

from __future__ import annotations

import numpy as np

from detectors import EnsembleConfig, Member, StreamingEnsemble
from detectors.art import AdaptiveResonance
from detectors.detector import PointDetector
from detectors.discord import Discord, conformal_knn
from detectors.level import LevelRarity
from detectors.rarity import ValueRarity
from tests.detectors.signals import noise, times


def stream(detector: PointDetector, values: np.ndarray) -> np.ndarray:
    return np.array(
        [detector.update(t, x) for t, x in zip(times(values.size), values, strict=True)]
    )


def pattern(n: int, period: int = 24, seed: int = 5) -> np.ndarray:
    """A repeating sawtooth with a little noise: the shapes a category can hold."""
    rng = np.random.default_rng(seed)
    return 50 + 10 * (np.arange(n) % period) / period + rng.normal(0, 0.2, n)


def test_resonance_holds_the_repeated_pattern_and_flags_a_shape_no_category_holds() -> None:
    values = pattern(2000)
    values[1500:1524] = values[1500:1524][::-1]  # the tooth runs backwards once, same values
    stats = stream(AdaptiveResonance(), values)
    assert np.nanmax(stats[1500:1560]) > 2.5 * np.nanmax(stats[800:1500])
    assert values[1500:1524].max() <= values[:1500].max()  # rarity could not see it


def test_resonance_categories_adapt_to_the_series_own_jitter() -> None:
    # the same noise at two scales: the vigilance is in the series' own units, so the
    # statistics scale with it and a calibrator sees the same ranks
    small = stream(AdaptiveResonance(), noise(1200, sigma=0.01))
    large = stream(AdaptiveResonance(), 1000 * noise(1200, sigma=0.01))
    assert np.allclose(np.nan_to_num(large), 1000 * np.nan_to_num(small), rtol=1e-6, atol=1e-6)


def test_knn_needs_a_pattern_to_recur_before_it_is_normal() -> None:
    values = pattern(1500)
    values[900:905] += 6  # a bump, once
    values[1308:1313] += 6  # the same bump again at the same phase, shortly after
    nearest = stream(Discord(length=16, stride=1), values)
    knn = stream(conformal_knn(length=16, neighbours=5), values)
    quiet = np.nanmedian(knn[600:900])
    # discord: the second bump has one close match (the first), so it looks almost normal;
    # five neighbours: one earlier occurrence is not a habit
    assert np.nanmax(nearest[1308:1328]) < 0.5 * np.nanmax(nearest[900:920])
    assert np.nanmax(knn[1308:1328]) > 0.7 * np.nanmax(knn[900:920]) > 3 * quiet


def test_knn_on_shapes_takes_a_new_level_as_the_old_pattern() -> None:
    values = pattern(1500)
    values[1000:] += 40  # the same pattern at a level never seen
    raw = stream(conformal_knn(), values)
    shapes = stream(conformal_knn(centred=1), values)
    # windows wholly after the step, before any of them is remembered
    assert np.nanmax(raw[1016:1032]) > 20 * np.nanmax(raw[600:1000])
    assert np.nanmax(shapes[1016:1032]) < np.nanmax(shapes[600:1000])


def test_level_rarity_flags_a_spike_but_not_a_new_level_once_it_lasts() -> None:
    values = noise(1200, sigma=0.01)
    values[500] *= 1.2
    values[800:] *= 1.3
    level = stream(LevelRarity(window=64), values)
    plain = stream(ValueRarity(), values)
    assert abs(level[500]) > 10 and abs(level[800]) > 20  # the spike and the onset
    assert np.nanmax(np.abs(level[900:])) < 5  # the new level is the level now
    assert plain[900:].min() > 125  # rarity keeps seeing values it never saw before


def test_level_rarity_follows_a_trend() -> None:
    values = noise(1200, sigma=0.005) + np.linspace(0, 60, 1200)
    level = stream(LevelRarity(window=64), values)
    assert np.nanmax(np.abs(level[200:])) < 6  # a 32-point lag of a slow ramp, plus noise


def test_the_ensemble_accepts_the_fourth_members_and_a_flat_line_stays_quiet() -> None:
    config = EnsembleConfig(
        members=(
            Member("rarity", explained_by="level_rarity"),
            Member("level_rarity", weight=0.0, params={"window": 128}),
            Member("art", weight=0.3, params={"block": 2, "length": 4}),
            Member("knn", weight=0.3, params={"neighbours": 3, "centred": 1}),
        )
    )
    ensemble = StreamingEnsemble(config, learning_points=1000)
    assert max(ensemble.update(t, 7.0) for t in times(1200).tolist()) == 0.0


def test_huge_or_flat_values_give_finite_statistics_or_no_evidence() -> None:
    huge = noise(300) * 1e150
    huge[250] = 1e300
    flat = np.full(300, 7.0)
    for make in (AdaptiveResonance, conformal_knn, LevelRarity):
        for values in (huge, flat):
            assert not np.isinf(stream(make(), values)).any()
        assert np.allclose(np.nan_to_num(stream(make(), flat)), 0.0)
