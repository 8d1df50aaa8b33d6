from __future__ import annotations

import numpy as np
import pytest

from detectors import FindingKind, Series, drift_finding, histogram_psi, psi
from tests.detectors.signals import STEP, times

SPLIT = 240 * STEP


def payloads(shift: float, seed: int = 1) -> Series:
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.normal(2100, 100, 240), rng.normal(2100 * shift, 100 * shift, 80)])
    return Series.of("request_payload_bytes", times(320), values)


def test_same_distribution_is_stable() -> None:
    rng = np.random.default_rng(3)
    assert psi(rng.normal(0, 1, 2000), rng.normal(0, 1, 2000)) < 0.05
    assert drift_finding(payloads(1.0), SPLIT) is None


def test_tripled_payload_is_a_drift_finding_with_psi_and_ks() -> None:
    finding = drift_finding(payloads(3.0), SPLIT)
    assert finding is not None and finding.kind is FindingKind.DRIFT
    assert finding.details["psi"] > 0.25 and finding.details["ks"] > 0.9
    assert finding.details["ks_pvalue"] < 1e-6
    assert finding.magnitude == pytest.approx(3.0, rel=0.05)


def test_moderate_shift_grows_psi_monotonically() -> None:
    rng = np.random.default_rng(4)
    reference = rng.normal(0, 1, 3000)
    values = [psi(reference, rng.normal(mu, 1, 3000)) for mu in (0.0, 0.3, 0.8, 2.0)]
    assert values == sorted(values)


def test_histogram_psi_from_bucket_counts() -> None:
    assert histogram_psi([10, 20, 70], [10, 20, 70]) == pytest.approx(0.0)
    assert histogram_psi([10, 20, 70], [70, 20, 10]) > 1.0
    assert histogram_psi([0, 0, 0], [1, 2, 3]) == 0.0


def test_empty_or_non_finite_samples_are_not_drift() -> None:
    assert psi(np.array([]), np.array([1.0])) == 0.0
    assert psi(np.array([np.nan, 1.0, 2.0]), np.array([np.inf, 1.0])) >= 0
    short = Series.of("m", times(30), np.arange(30.0))
    assert drift_finding(short, 25 * STEP) is None
