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
