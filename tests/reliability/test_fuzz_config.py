"""Fuzzing what configures Medic: the MEDIC_CONFIG file, MEDIC_* variables, the policy and runbook
YAML, through the real loaders (and `medic act`, for the exit code). Properties, for any input:
either the settings load (every number finite) or a one-line error names the file or variable,
never another exception; bounded time and memory per input (an alias bomb, nesting thousands
deep, numbers of thousands of digits, bytes that are not UTF-8).

The fast slice runs in the default suite; `make soak` runs the same properties on many more inputs.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import load_settings
from bot.errors import ConfigError
from bot.planners.runbooks import load_runbooks
from tests.reliability import hostile_input as hostile
from tests.reliability.hostile_input import FAST, HANG_SECONDS, PEAK_BYTES, SECONDS, SOAK
from tools.errors import PolicyError
from tools.policy import load_policy


def bounded(call: Callable[[], Any], refused: type[Exception], names: str, what: str = "") -> Any:
    """``call()``'s result, or its ``refused`` error: one line naming ``names``; either way
    within the time and memory budget. Any other exception fails the test."""
    outcome, cost = hostile.measured(lambda: _outcome(call, refused))
    assert cost.cpu_seconds < SECONDS, f"{cost.cpu_seconds:.1f} s of CPU: {what[:300]!r}"
    assert cost.seconds < HANG_SECONDS, f"{cost.seconds:.1f} s: {what[:300]!r}"
    assert cost.peak_bytes < PEAK_BYTES, f"{cost.peak_bytes / 2**20:.0f} MiB: {what[:300]!r}"
    if isinstance(outcome, refused):
        message = str(outcome)
        assert "\n" not in message and names in message, message[:300]
        return None
    return outcome


def _outcome(call: Callable[[], Any], refused: type[Exception]) -> Any:
    try:
        return call()
    except refused as exc:
        return exc


def assert_finite(model: BaseModel) -> None:
    for value in model.model_dump().values():
        if isinstance(value, float):
            assert math.isfinite(value)
        if isinstance(value, dict):
            assert all(math.isfinite(v) for v in value.values() if isinstance(v, float))


def fuzz_config_file(rnd: random.Random, tmp_path: Path) -> None:
    path = tmp_path / "medic.yaml"
    raw = hostile.config_file(rnd)
    path.write_bytes(raw)
    os.environ["MEDIC_CONFIG"] = str(path)
    try:
        loaded = bounded(lambda: load_settings(cluster="sim"), ConfigError, str(path), repr(raw))
    finally:
        del os.environ["MEDIC_CONFIG"]
    if loaded is not None:
        for section in hostile.SECTIONS:
            assert_finite(getattr(loaded, section))


def fuzz_environment(rnd: random.Random) -> None:
    variable, value = hostile.variable(rnd)
    os.environ[variable] = value
    try:
        loaded = bounded(lambda: load_settings(cluster="sim"), ConfigError, "MEDIC_")
    finally:
        del os.environ[variable]
    if loaded is not None:
        for section_name in hostile.SECTIONS:
            assert_finite(getattr(loaded, section_name))


def fuzz_policy(rnd: random.Random, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(hostile.policy_file(rnd))
    loaded = bounded(lambda: load_policy(path), PolicyError, str(path))
    if loaded is not None:
        assert_finite(loaded)


def fuzz_runbooks(rnd: random.Random, tmp_path: Path) -> None:
    directory = tmp_path / "runbooks"
    directory.mkdir(exist_ok=True)
    path = directory / "team.yaml"
    path.write_bytes(hostile.runbook_file(rnd))
    bounded(lambda: load_runbooks(directory), ConfigError, str(path))


# --- the known attacks, each once -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("metrics:\n  queries: " + hostile.alias_bomb(9), "alias bomb"),
        ("investigation: " + hostile.deep(5000, "{", "}"), "nested deeper than 64"),
        ("llm:\n  max_retries: " + "1" * 5000, "more than 64 characters"),
        ("verification:\n  delay_seconds: .inf", "not a finite number"),
        ("detectors:\n  limits: {latency_p95_ms: .nan}", "not a finite number"),
    ],
    ids=["alias-bomb", "deep", "huge-int", "inf", "nan"],
)
def test_a_hostile_config_file_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "medic.yaml"
    path.write_text(text)
    monkeypatch.setenv("MEDIC_CONFIG", str(path))
    with pytest.raises(ConfigError, match=says) as info:
        load_settings()
    assert str(path) in str(info.value)


def test_a_config_file_that_is_not_utf8_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "medic.yaml"
    path.write_bytes(b"alert_channel: caf\xe9\n")  # Latin-1
    monkeypatch.setenv("MEDIC_CONFIG", str(path))
    with pytest.raises(ConfigError, match="is not UTF-8 text") as info:
        load_settings()
    assert str(path) in str(info.value)


def test_a_bad_value_names_the_setting_and_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "medic.yaml"
    path.write_text("verification:\n  delay_seconds: -5\n")
    monkeypatch.setenv("MEDIC_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"verification\.delay_seconds") as info:
        load_settings()
    assert f"in {path}" in str(info.value)
    monkeypatch.setenv("MEDIC_VERIFICATION__DELAY_SECONDS", "nan")
    with pytest.raises(ConfigError, match="from MEDIC_VERIFICATION__DELAY_SECONDS"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MEDIC_WATCHED_CHANNELS", "C123"),
        ("MEDIC_INVESTIGATION", "{bad"),
        ("MEDIC_LLM", "[" * 5000),
    ],
)
def test_a_variable_that_is_not_json_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match="is not valid JSON") as info:
        load_settings()
    assert variable in str(info.value) or "MEDIC_" in str(info.value)
    result = CliRunner().invoke(app, ["act", "restart", "--target", "shop/x", "--cluster", "sim"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"cooldown_seconds: 600\nworkloads: {shop: [caf\xe9]}\n", "is not UTF-8 text"),
        (("approvers: " + hostile.alias_bomb(9)).encode(), "alias bomb"),
        (b"cooldown_seconds: " + b"1" * 5000, "more than 64 characters"),
        (b"approvers: " + hostile.deep(2000).encode(), "nested deeper"),
    ],
    ids=["not-utf8", "alias-bomb", "huge-int", "deep"],
)
def test_a_hostile_policy_is_refused_and_medic_act_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: bytes, says: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(raw)
    with pytest.raises(PolicyError, match=says):
        load_policy(path)
    (tmp_path / "medic.yaml").write_text("policy: policy.yaml\n")
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "medic.yaml"))
    result = CliRunner().invoke(
        app,
        [
            "act",
            "scale",
            "--target",
            "shop/recommender",
            "--param",
            "replicas=4",
            "--cluster",
            "sim",
        ],
    )
    assert result.exit_code == 2 and says in result.stderr and str(path) in result.stderr


def test_an_alias_bomb_in_a_runbook_is_refused_when_it_loads(tmp_path: Path) -> None:
    # it once loaded fine, and exploded later: when a plan built an action from the recipe
    (tmp_path / "bomb.yaml").write_text(
        "- name: bomb\n  when: {}\n  propose:\n    - tool: scale\n      params:\n"
        f"        factor: 2\n        note: {hostile.alias_bomb(9)}\n"
    )
    with pytest.raises(ConfigError, match="alias bomb"):
        load_runbooks(tmp_path)


def test_an_unreadable_runbook_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").mkdir()  # a directory named like a runbook file
    (tmp_path / "latin.yml").write_bytes(b"- name: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"team\.yaml"):
        load_runbooks(tmp_path)


# --- properties over generated input ----------------------------------------------------------


@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_any_config_file_loads_or_is_refused_naming_it(rnd: random.Random, tmp_path: Path) -> None:
    fuzz_config_file(rnd, tmp_path)


@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_any_variable_loads_or_is_refused_naming_it(rnd: random.Random) -> None:
    fuzz_environment(rnd)


@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_any_policy_loads_or_is_refused_naming_it(rnd: random.Random, tmp_path: Path) -> None:
    fuzz_policy(rnd, tmp_path)


@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_any_runbook_file_loads_or_is_refused_naming_it(rnd: random.Random, tmp_path: Path) -> None:
    fuzz_runbooks(rnd, tmp_path)


@pytest.mark.soak
@SOAK
@given(rnd=st.randoms(use_true_random=False))
def test_soak_configuration(rnd: random.Random, tmp_path: Path) -> None:
    fuzz_config_file(rnd, tmp_path)
    fuzz_environment(rnd)
    fuzz_policy(rnd, tmp_path)
    fuzz_runbooks(rnd, tmp_path)


def test_a_policy_allowing_absurd_silences_is_refused_and_so_is_the_silence(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # a policy allowing any silence let a 10^12-minute one through: a traceback (year 1903351)
    policy = tmp_path / "policy.yaml"
    shipped = (Path(__file__).parents[2] / "tools" / "default_policy.yaml").read_text()
    policy.write_text(shipped + "\nsilence_max_minutes: 1000000000000000\n")
    with pytest.raises(PolicyError, match=r"silence_max_minutes: Input should be less than"):
        load_policy(policy)
    (tmp_path / "medic.yaml").write_text("policy: policy.yaml\n")
    policy.write_text(shipped)
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "medic.yaml"))
    result = CliRunner().invoke(app, [
        "act", "silence", "--target", "shop/recommender", "--cluster", "sim", "--yes", "--param",
        "matchers={namespace: shop, service: recommender}", "--param",
        "duration_minutes=999999999999",
    ])  # fmt: skip
    assert result.exit_code == 2 and "less than or equal to 527040" in result.stderr


def test_a_config_path_with_a_line_break_is_named_on_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "a\nb\x1b[2J.yaml"))
    with pytest.raises(ConfigError, match="cannot read MEDIC_CONFIG file") as info:
        load_settings()
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)
