"""The detectors and the metric source are configuration: YAML and environment, checked on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from detectors import Series
from tests.detectors.signals import noise, times, with_shift


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml: str) -> None:
    config = tmp_path / "medic.yaml"
    config.write_text(yaml)
    monkeypatch.setenv("MEDIC_CONFIG", str(config))


def test_ensemble_members_and_rules_come_from_the_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(
        tmp_path,
        monkeypatch,
        "detectors:\n  members:\n    - {detector: holt, params: {alpha: 0.5}}\n"
        "  min_relative_change: 0.5\n  limits: {disk_used_pct: 90}\n",
    )
    suite = load_settings().detectors.suite()
    assert [m.detector for m in suite.ensemble.members] == ["holt"]
    assert suite.ensemble.members[0].params == {"alpha": 0.5}
    assert suite.limits == {"disk_used_pct": 90}
    doubled = Series.of("m", times(300), with_shift(noise(300), 240, 1.4))
    assert suite.analyse([doubled], 200 * 15.0).anomalies == []  # +40% < the configured 50%


@pytest.mark.parametrize(
    ("yaml", "problem"),
    [
        ("detectors:\n  members: [{detector: prophet}]\n", "unknown detector 'prophet'"),
        (
            "detectors:\n  members: [{detector: rarity, explained_by: seasonal}]\n",
            "explained_by 'seasonal' is not a member",
        ),
        ("detectors:\n  members: [{detector: holt, weight: -1}]\n", "detectors.members.0.weight"),
        ("metrics:\n  source: graphite\n", "metrics.source"),
    ],
)
def test_bad_detector_or_metrics_settings_name_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml: str, problem: str
) -> None:
    configure(tmp_path, monkeypatch, yaml)
    with pytest.raises(ConfigError, match=problem):
        load_settings()


def test_metric_source_is_chosen_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_METRICS__SOURCE", "prometheus")
    monkeypatch.setenv("MEDIC_METRICS__PROMETHEUS_URL", "http://prom:9090")
    metrics = load_settings().metrics
    assert (metrics.source, metrics.prometheus_url) == ("prometheus", "http://prom:9090")
    assert "request_payload_bytes" in metrics.queries  # defaults for every catalog metric
