"""The members added for issue 13 (spectral residual, a coarser time scale, a ridge regression's
prediction error): each catches what it is for, stays quiet on what it should explain, and is
accepted by the ensemble's configuration."""

from __future__ import annotations

import math

import numpy as np

from detectors import EnsembleConfig, Member, StreamingEnsemble
from detectors.detector import PointDetector
from detectors.lagridge import LagRidge
from detectors.multiscale import Downsampled, coarse_discord, coarse_rarity
from detectors.rarity import ValueRarity
from detectors.spectral import SpectralResidual
from tests.detectors.signals import STEP, noise, times


def stream(detector: PointDetector, values: np.ndarray) -> np.ndarray:
    return np.array(
        [detector.update(t, x) for t, x in zip(times(values.size), values, strict=True)]
    )


def cycle(n: int, period: int = 16, seed: int = 4) -> np.ndarray:
    """A regular cycle with a little noise: structure a spectrum explains."""
    rng = np.random.default_rng(seed)
    return 100 + 20 * np.sin(2 * np.pi * np.arange(n) / period) + rng.normal(0, 0.5, n)


def test_spectral_residual_flags_a_spike_but_not_the_regular_cycle() -> None:
    values = cycle(600)
    values[504] += (
        15  # on the rising edge, smaller than the cycle's swing: the value alone is not extreme
    )
    stats = stream(SpectralResidual(), values)
    assert stats[504] > 1.5 * np.nanmax(stats[100:504])
    assert values[504] < values[:504].max()  # rarity could not see it


def test_a_coarser_scale_calms_a_one_point_burst_and_keeps_a_level_shift() -> None:
    values = noise(400, sigma=0.01)
    values[200] *= 1.2  # one-point burst
    values[300:] *= 1.2  # lasting shift
    fine = stream(ValueRarity(), values)
    coarse = stream(coarse_rarity(4), values)
    assert fine[200] > 115 and coarse[200] < 106  # a quarter of the burst at 4x
    assert coarse[303] > 118  # the shift fills the coarse block
    assert math.isnan(coarse[2])  # no complete block yet


def test_the_coarse_model_learns_only_from_complete_blocks() -> None:
    seen: list[float] = []

    class Recorder(ValueRarity):
        def update(self, t: float, x: float, learn: bool = True) -> float:
            if learn:
                seen.append(x)
            return x

    stream(Downsampled(Recorder(), 3), np.arange(1.0, 10.0))
    assert seen == [2.0, 5.0, 8.0]  # the means of 1-3, 4-6, 7-9


def test_ridge_learns_the_series_dynamics_and_flags_their_break() -> None:
    values = cycle(800, period=10)
    values[700:] = values[700:] + np.where(np.arange(100) % 2 == 0, 12.0, -12.0)
    errors = stream(LagRidge(), values)
    assert np.nanmax(np.abs(errors[200:700])) < 4  # the cycle is predicted
    assert np.nanmax(np.abs(errors[700:705])) > 10  # an alternation it never saw is not


def test_the_ensemble_accepts_the_new_members_and_a_flat_line_stays_quiet() -> None:
    config = EnsembleConfig(
        members=(
            Member("rarity", explained_by="coarse_rarity"),
            Member("coarse_rarity", weight=0.0, params={"factor": 2}),
            Member("spectral", weight=0.3),
            Member("ridge", weight=0.3),
            Member("coarse_discord", weight=0.3, params={"factor": 2, "length": 8}),
        )
    )
    ensemble = StreamingEnsemble(config, learning_points=1000)  # no learning-period correction
    scores = [ensemble.update(t, 7.0) for t in times(1200).tolist()]
    assert max(scores) == 0.0


def test_huge_or_flat_values_give_finite_statistics_or_no_evidence() -> None:
    huge = noise(300) * 1e150
    huge[250] = 1e300
    flat = np.full(300, 7.0)
    for make in (SpectralResidual, LagRidge, lambda: coarse_discord(2, length=8)):
        for values in (huge, flat):
            stats = stream(make(), values)
            assert not np.isinf(stats).any()
        assert np.allclose(np.nan_to_num(stream(make(), flat)), 0.0)
    assert STEP > 0
