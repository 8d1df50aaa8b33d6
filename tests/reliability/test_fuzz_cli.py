"""Fuzzing the command line: `medic act` (the tool, --target, --param, --cluster, --scenario),
`medic investigate --alert` and the other options that take text. Properties, for any input:
no traceback (an exception escaping the command), an exit code the docs give (bad input 2,
refused 3), Medic's own errors on one line without terminal control characters, bounded time and
memory; and a --param that parses is exactly what the preview shows.

The fast slice runs in the default suite; `make soak` runs the same properties on many more inputs.
"""

from __future__ import annotations

import json
import random
import unicodedata
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from bot.cli.app import app
from bot.cli.errors import MAX_LINE
from tests.reliability import hostile_input as hostile
from tests.reliability.hostile_input import FAST, HANG_SECONDS, PEAK_BYTES, SECONDS, SOAK

ACT_CODES = {0, 2, 3}  # done, bad input, refused (4, failed, would be a fault of the simulation)


@pytest.fixture(autouse=True, scope="module")
def imported() -> None:
    """What `medic act` imports lazily, imported before anything is measured."""
    CliRunner().invoke(app, ["act", "restart", "--target", "shop/x", "--cluster", "sim"])


def medic(*args: str, input: bytes | None = None) -> Result:
    """One `medic` command in process, measured; the properties every input must keep."""
    result, cost = hostile.measured(lambda: CliRunner().invoke(app, list(args), input=input))
    assert_clean(result, args)
    assert cost.cpu_seconds < SECONDS, f"{cost.cpu_seconds:.1f} s of CPU for {_short(args)}"
    assert cost.seconds < HANG_SECONDS, f"{cost.seconds:.1f} s for {_short(args)}"
    assert cost.peak_bytes < PEAK_BYTES, f"{cost.peak_bytes / 2**20:.0f} MiB for {_short(args)}"
    return result


def assert_clean(result: Result, args: tuple[str, ...]) -> None:
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    assert escaped is None, f"{type(escaped).__name__}: {escaped!s:.300} for {_short(args)}"
    assert "Traceback" not in result.stderr
    if result.stderr.startswith("medic: "):  # Medic's own error: one line, nothing hidden
        line = result.stderr.rstrip("\n")
        assert "\n" not in line, line[:300]
        assert len(line) <= MAX_LINE + len("medic: "), len(line)
        hidden = {unicodedata.category(ch) for ch in line} & {"Cc", "Cf", "Cs", "Zl", "Zp"}
        assert not hidden, line[:300]


def _short(args: tuple[str, ...]) -> str:
    return repr([a[:80] for a in args])[:400]


def act(tool: str, target: str, *params: str, cluster: str = "sim") -> Result:
    args = ["act", tool, "--target", target, "--cluster", cluster, "--dry-run"]
    for param in params:
        args += ["--param", param]
    return medic(*args)


# --- the known attacks, each once -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (hostile.alias_bomb(7), "alias bomb"),  # 4.8 million strings once walked, ~3 min at 9
        ("&x [*x]", "refers to itself"),
        (hostile.deep(5000), "nested deeper than 64"),
        ("1" * 5000, "more than 64 characters"),
        ("2020-01-01", "replicas: Input should be a valid integer"),  # a date stays text
        ("!!binary aGVsbG8=", "binary values are not supported"),
        ("!!set {a}", "set values are not supported"),
        (".nan", "not a finite number"),
        ("x" * 100_000, "100,000 bytes; at most 65,536"),
    ],
    ids=["alias-bomb", "recursive", "deep", "huge-int", "date", "binary", "set", "nan", "100kB"],
)
def test_a_hostile_param_value_is_refused_in_one_line(value: str, says: str) -> None:
    result = act("scale", "shop/recommender", f"replicas={value}")
    assert result.exit_code == 2 and says in result.stderr, result.stderr[:300]


def test_terminal_control_characters_in_a_target_are_shown_escaped() -> None:
    result = act("scale", "shop/recommender\x1b[2J\x1b]0;owned\x07", "replicas=2")
    assert result.exit_code == 3
    assert "recommender\\x1b[2J\\x1b]0;owned\\x07 is not among the workloads" in result.stderr


def test_a_huge_target_is_refused_in_a_bounded_line() -> None:
    result = act("scale", "shop/" + "x" * 1_000_000, "replicas=2")
    assert result.exit_code == 3 and len(result.stderr) < MAX_LINE + 10


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (hostile.deep(100_000).encode(), "nested more than 64 levels deep"),
        (b'{"alerts": [{"labels": {"a": "b"}, "startsAt": ' + b"1" * 5000 + b"}]}", "4,300+"),
        (b"{" + b" " * 2_000_000 + b"}", "over 1,048,576 bytes"),
        (b"\xff\xfe{}", "not JSON"),
        (  # valid JSON, not text: it once ran a whole investigation, then crashed printing it
            b'{"alerts": [{"status": "firing", "startsAt": "2026-12-06T08:00:00Z", "labels": '
            b'{"alertname": "X", "namespace": "shop", "service": "recommender\\ud800"}}]}',
            "unpaired surrogate",
        ),
    ],
    ids=["deep", "huge-int", "2MB", "not-utf8", "lone-surrogate"],
)
def test_a_hostile_alert_file_is_refused_in_one_line(payload: bytes, says: str) -> None:
    result = medic("investigate", "--alert", "-", "--cluster", "sim", input=payload)
    assert result.exit_code == 2 and says in result.stderr, result.stderr[:300]


def test_an_absurd_audit_limit_is_a_usage_error() -> None:
    result = medic("audit", "list", "--limit", "9" * 30)
    assert result.exit_code == 2 and "--limit" in result.stderr


# --- properties over generated input ----------------------------------------------------------


def fuzz_act(rnd: random.Random) -> None:
    result = medic(*hostile.act_args(rnd))
    assert result.exit_code in ACT_CODES, (result.exit_code, result.stderr[:300])


def fuzz_investigate(rnd: random.Random) -> None:
    result = medic(
        "investigate", "--alert", "-", "--cluster", "sim", input=hostile.alert_payload(rnd)
    )
    assert result.exit_code == 2, (result.exit_code, result.stderr[:300])


@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_act_never_escapes_an_exception_and_stays_bounded(rnd: random.Random) -> None:
    fuzz_act(rnd)


@FAST
@given(rnd=st.randoms(use_true_random=False))
def test_investigate_refuses_any_broken_alert_file_in_one_line(rnd: random.Random) -> None:
    fuzz_investigate(rnd)


LABEL_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn")),
    min_size=1,
    max_size=200,
)


@FAST
@given(alertname=LABEL_TEXT, comment=LABEL_TEXT, minutes=st.integers(1, 240))
def test_a_silence_param_that_parses_is_the_one_the_preview_shows(
    alertname: str, comment: str, minutes: int
) -> None:
    matchers = {"namespace": "shop", "service": "recommender", "alertname": alertname}
    result = act(
        "silence",
        "shop/recommender",
        "matchers=" + json.dumps(matchers, ensure_ascii=False),
        f"duration_minutes={minutes}",
        "comment=" + json.dumps(comment, ensure_ascii=False),
    )
    assert result.exit_code == 0, result.stderr
    shown = ", ".join(f"{k}={v}" for k, v in sorted(matchers.items()))
    assert f"silence alerts {{{shown}}} for {minutes} min" in result.stdout


@FAST
@given(replicas=st.integers(2, 9), spelled=st.sampled_from(["{}", "'{}'", "+{}", "0{}"]))
def test_a_replica_count_that_parses_is_the_one_the_preview_shows(
    replicas: int, spelled: str
) -> None:
    value = spelled.format(replicas)
    parsed: Any = yaml.safe_load(value)
    result = act("scale", "shop/recommender", f"replicas={value}")
    if isinstance(parsed, int) and parsed == replicas:
        assert result.exit_code == 0, result.stderr
        assert result.stdout.endswith(f"3 -> {replicas} replicas\n")
    else:  # '5' is text; 010 is octal in YAML 1.1: refused or scaled to what YAML read
        assert result.exit_code in (0, 2)


@pytest.mark.soak
@SOAK
@given(rnd=st.randoms(use_true_random=False))
def test_soak_act(rnd: random.Random) -> None:
    fuzz_act(rnd)


@pytest.mark.soak
@SOAK
@given(rnd=st.randoms(use_true_random=False))
def test_soak_investigate(rnd: random.Random) -> None:
    fuzz_investigate(rnd)
