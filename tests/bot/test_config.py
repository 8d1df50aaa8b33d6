from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_environment_overrides_the_yaml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "medic.yaml"
    config.write_text(
        "alert_channel: '#from-yaml'\npolicy: policy.yaml\ninvestigation:\n  lead_minutes: 5\n"
    )
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    assert load_settings().alert_channel == "#from-yaml"
    monkeypatch.setenv("MEDIC_ALERT_CHANNEL", "#from-env")
    settings = load_settings()
    assert settings.alert_channel == "#from-env"
    assert settings.policy == tmp_path / "policy.yaml"  # relative to the YAML file
    assert settings.investigation.lead_minutes == 5


def test_cli_overrides_win_and_bad_values_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_CLUSTER", "kube")
    assert load_settings(cluster="sim").cluster == "sim"
    monkeypatch.setenv("MEDIC_CLUSTER", "openshift")
    with pytest.raises(ConfigError, match="cluster"):
        load_settings()


def test_unreadable_or_invalid_yaml_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings()
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    monkeypatch.setenv("MEDIC_CONFIG", str(bad))
    with pytest.raises(ConfigError, match="mapping"):
        load_settings()


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("MEDIC_INVESTIGATION__MAX_WINDOW_MINUTES", "inf", "max_window_minutes: Input should be "
         "a finite number"),
        ("MEDIC_INVESTIGATION__MAX_WINDOW_MINUTES", "1e9", "max_window_minutes: Input should be "
         "less than or equal to 10080"),
        ("MEDIC_INVESTIGATION__MAX_WINDOW_MINUTES", "70", "max_window_minutes must be longer "
         "than baseline_minutes \\+ lead_minutes"),
        ("MEDIC_INVESTIGATION__TIMEOUT_SECONDS", "0", "timeout_seconds: Input should be greater"),
        ("MEDIC_INVESTIGATION__TIMEOUT_SECONDS", "nan", "timeout_seconds: Input should be a "
         "finite"),
        ("MEDIC_METRICS__MAX_POINTS", "100000", "max_points: Input should be less than or equal "
         "to 11000"),
        ("MEDIC_INVESTIGATION__MAX_CANDIDATES", "100000", "max_candidates: Input should be less "
         "than or equal to 500"),
        ("MEDIC_INVESTIGATION__LOG_CANDIDATES", "-1", "log_candidates: Input should be greater"),
    ],
)  # fmt: skip
def test_bounds_that_would_not_bound_are_refused(
    monkeypatch: pytest.MonkeyPatch, setting: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(setting, value)
    with pytest.raises(ConfigError, match=problem):
        load_settings()


@pytest.mark.parametrize(
    ("yaml", "problem"),
    [
        ('dependencies:\n  "<!channel>": [checkout]\n', "dependencies.<!channel>.\\[key\\]: "
         "String should match pattern"),
        ("dependencies:\n  frontend: [https://evil.example/x]\n", "dependencies.frontend.0: "
         "String should match pattern"),
        ("dependencies:\n  frontend: checkout\n", "dependencies.frontend: Input should be a "
         "valid list"),
        ("dependencies:\n  frontend: [" + ", ".join(f"s{i}" for i in range(501)) + "]\n",
         "dependencies.frontend: List should have at most 500 items"),
        ("dependencies:\n" + "".join(f"  s{i}: [x]\n" for i in range(1001)),
         "dependencies: Dictionary should have at most 1000 items"),
    ],
)  # fmt: skip
def test_a_call_graph_that_is_not_workload_names_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml: str, problem: str
) -> None:
    """``dependencies:`` names workloads: markup, links, a bare string or an unbounded graph is
    a configuration error naming the entry, before anything reads it."""
    config = tmp_path / "medic.yaml"
    config.write_text(yaml)
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    with pytest.raises(ConfigError, match=problem):
        load_settings()
