"""Hostile input for Medic's non-HTTP surfaces (``medic act --param`` and the other options, the
alert file of ``medic investigate``, the configuration file and MEDIC_* variables, the policy and
runbook YAML), shared by the fuzz suites (tests/reliability/test_fuzz_cli.py,
test_fuzz_config.py) and ``benchmarks/reliability/fuzzcli.py``: seeded, so a run can be repeated.

Each generator takes a ``random.Random`` and returns one input: the known attacks (a YAML alias
bomb, nesting thousands deep, numbers of thousands of digits, NaN and infinities, non-UTF-8 bytes,
NUL and terminal escapes, megabyte values, absurd durations) mixed with random text and structure.
"""

from __future__ import annotations

import json
import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from pydantic import BaseModel

from bot.config import Settings
from tools.policy import Policy

T = TypeVar("T")

# The fuzz suites' pace: a fixed fast slice in the default suite, many random examples in soak.
FAST = settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SOAK = settings(FAST, max_examples=1500, derandomize=False)
# What one input may cost, on a shared 2-core machine (a refusal takes milliseconds; an alias bomb
# once took minutes and gigabytes): CPU seconds of this process, which other processes' load does
# not stretch (the clock does: 11.5 s for a dry-run scale at load 20), and a clock bound against
# an input that makes Medic wait instead of work.
SECONDS = 10.0
HANG_SECONDS = 60.0
PEAK_BYTES = 64 * 2**20

# The settings a configuration file or variable can set: sections and their keys, top-level keys.
SECTIONS = {
    name: list(field.annotation.model_fields)
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
}
TOP = [name for name in Settings.model_fields if name not in SECTIONS]
POLICY_KEYS = list(Policy.model_fields)
TOOLS = ["scale", "restart", "rollback", "purge_cache", "silence", "pod_restarts", "reboot"]
PARAM_KEYS = ["replicas", "pattern", "matchers", "duration_minutes", "comment", "limit"]

# Characters a terminal acts on (escape sequences, carriage return, bidi override) and others
# that break naive handling (NUL, a lone surrogate as argv carries non-UTF-8 bytes, BOM).
NASTY_CHARS = "\x00\x1b\r\n\t\x7f\x85\u2028\u202e\ufeff\udcff\x08"

YAML_SCALARS = [
    "1" * 5000,  # beyond Python's 4,300-digit limit for int()
    "9" * 30,
    "-1",
    "0",
    "1.5",
    ".nan",
    ".inf",
    "-.inf",
    "1.0e999",
    "0x" + "f" * 200,
    "1:2:3:4:5:6:7:8:9",  # YAML 1.1 base 60
    "2020-01-01",  # a date, not JSON
    "2020-01-01T00:00:00Z",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/object/apply:os.system [echo owned]",
    "&x [*x]",  # an alias to itself
    "*undefined",
    "'unterminated",
    "{a: [1, 2",
    "~",
    "",
    "[]",
    "{}",
    "true",
    "a: 1\n---\nb: 2",
    "\t- tab",
]

JSON_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    12345,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    "",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2020-13-45T99:99:99Z",
    "9999-12-31T23:59:59Z",
    "\x00",
    "\x1b[2J<!channel>",
    [],
    {},
    {"a": 1},
    ["x"] * 3,
]


def alias_bomb(levels: int, width: int = 9) -> str:
    """A YAML "billion laughs": ``width ** levels`` strings through nested aliases."""
    parts = ["&l0 [" + ",".join(["lol"] * width) + "]"]
    parts += [f"&l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


def deep(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def text(rnd: random.Random, max_size: int = 100_000) -> str:
    """Random text: mostly short, sometimes up to ``max_size`` characters, with nasty characters,
    any Unicode and YAML/shell punctuation."""
    size = int(min(max_size, 2 ** rnd.uniform(0, 17))) if rnd.random() < 0.2 else rnd.randint(0, 40)
    alphabet = rnd.choice(
        [
            NASTY_CHARS + "abc ",
            "abcdefghijklmnopqrstuvwxyz0123456789_-/.",
            ":{}[]&*!|>'\"%@`#,?-= \n",
            "".join(chr(rnd.randint(0x20, 0x10FFFF)) for _ in range(30)),
        ]
    )
    return "".join(rnd.choice(alphabet) for _ in range(size))


def yaml_value(rnd: random.Random) -> str:
    """The text of one YAML value, as `--param key=VALUE` or a config file gets it."""
    kind = rnd.randrange(6)
    if kind == 0:
        return rnd.choice(YAML_SCALARS)
    if kind == 1:
        return alias_bomb(rnd.randint(3, 12), rnd.randint(2, 12))
    if kind == 2:
        return deep(
            rnd.choice([10, 63, 64, 65, 100, 1000, 5000, 50_000]), *rnd.choice(["[]", "{}"])
        )
    if kind == 3:
        return json.dumps(json_value(rnd, 3), ensure_ascii=rnd.random() < 0.5)
    if kind == 4:
        return "x" * rnd.choice([1000, 65_536, 65_537, 200_000])
    return text(rnd)


def json_value(rnd: random.Random, depth: int) -> Any:
    """A random JSON-able value (NaN and infinities included), at most ``depth`` deep."""
    if depth <= 0 or rnd.random() < 0.4:
        return rnd.choice([*JSON_VALUES, text(rnd, 200), rnd.randint(-(2**70), 2**70)])
    if rnd.random() < 0.5:
        return [json_value(rnd, depth - 1) for _ in range(rnd.randint(0, 4))]
    return {text(rnd, 20): json_value(rnd, depth - 1) for _ in range(rnd.randint(0, 4))}


def alert_payload(rnd: random.Random) -> bytes:
    """An Alertmanager webhook body that must be refused: a valid one with a required field
    broken (type, time, nesting, size) or its bytes corrupted."""
    alert: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": "Hostile", "namespace": "shop", "service": "recommender"},
        "annotations": {"summary": text(rnd, 500)},
        "startsAt": "2026-12-06T08:00:00Z",
    }
    payload: dict[str, Any] = {"version": "4", "status": "firing", "alerts": [alert]}
    kind = rnd.randrange(7)
    if kind == 0:
        return deep(rnd.choice([1000, 5000, 100_000]), *rnd.choice(["[]", "{}"])).encode()
    if kind == 1:
        return b'{"alerts": [{"labels": {"a": "b"}, "startsAt": ' + b"1" * 5000 + b"}]}"
    if kind == 2:
        return bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 2000)))
    if kind == 3:  # a byte that is not UTF-8, anywhere
        raw = json.dumps(payload).encode()
        at = rnd.randrange(len(raw))
        return raw[:at] + rnd.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"]) + raw[at:]
    field = rnd.choice(["startsAt", "labels", "status"])
    bad = rnd.choice(JSON_VALUES)
    if field == "labels" and isinstance(bad, dict) and bad:
        bad = {k: [v] for k, v in bad.items()}  # label values that are not text
    if field == "status" and bad in ("firing", "resolved"):
        bad = None
    alert[field] = bad
    if kind == 4:
        payload["alerts"] = [alert] * rnd.choice([1, 100, 10_000])
    if kind == 5:
        payload["alerts"] = rnd.choice([[], None, "x", [None], [[alert]]])
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


def act_args(rnd: random.Random) -> list[str]:
    """`medic act` arguments (dry run): a tool, a target, --param pairs, a cluster."""
    tool = rnd.choice(TOOLS)
    target = rnd.choice(["shop/recommender", "shop/checkout", text(rnd), "shop/"])
    cluster = rnd.choice(["sim"] * 9 + [text(rnd, 40)])
    args = ["act", tool, "--target", target, "--cluster", cluster, "--dry-run"]
    for _ in range(rnd.randint(0, 3)):
        key = text(rnd, 80) if rnd.random() < 0.1 else rnd.choice(PARAM_KEYS)
        args += ["--param", f"{key}={yaml_value(rnd)}"]
    return args


def config_file(rnd: random.Random) -> bytes:
    """A MEDIC_CONFIG file: a hostile value at a real setting, hostile text as the whole file,
    sometimes a byte that is not UTF-8."""
    if rnd.random() < 0.2:
        body = yaml_value(rnd)
    else:
        section = rnd.choice([*SECTIONS, *TOP])
        value = yaml_value(rnd).replace("\n", " ")
        if section in SECTIONS:
            body = f"{section}:\n  {rnd.choice(SECTIONS[section])}: {value}\n"
        else:
            body = f"{section}: {value}\n"
    raw = body.encode("utf-8", "surrogatepass")
    if rnd.random() < 0.1:
        at = rnd.randrange(len(raw) + 1)
        raw = raw[:at] + b"\xff" + raw[at:]
    return raw


def variable(rnd: random.Random) -> tuple[str, str]:
    """A MEDIC_* variable (a section, or one key of it) and a hostile value an environment can
    hold (no NUL, valid UTF-8)."""
    section = rnd.choice([*SECTIONS, *TOP])
    name = f"MEDIC_{section.upper()}"
    if section in SECTIONS and rnd.random() < 0.7:
        name += "__" + rnd.choice(SECTIONS[section]).upper()
    value = rnd.choice([yaml_value(rnd), text(rnd), "nan", "-inf", "1e999", "9" * 400, "{bad"])
    value = value.replace("\x00", "").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return name, value


def policy_file(rnd: random.Random) -> bytes:
    if rnd.random() < 0.3:
        body = yaml_value(rnd)
    else:
        body = f"{rnd.choice(POLICY_KEYS)}: {yaml_value(rnd).replace(chr(10), ' ')}\n"
    return body.encode("utf-8", "surrogatepass")


def runbook_file(rnd: random.Random) -> bytes:
    value = yaml_value(rnd).replace("\n", " ")
    body = rnd.choice(
        [
            value,
            f"- name: x\n  when: {{labels: {{alertname: X}}}}\n  advice: [{value}]\n",
            f"- name: x\n  when: {{}}\n  propose: [{{tool: scale, params: {{factor: {value}}}}}]\n",
        ]
    )
    return body.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class Measured:
    """What one input cost: CPU seconds of this process, wall seconds and the peak of Python
    allocations (tracemalloc)."""

    cpu_seconds: float
    seconds: float
    peak_bytes: int


def measured(call: Callable[[], T]) -> tuple[T, Measured]:
    """``call()``'s result and what it cost."""
    tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        result = call()
    finally:
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, Measured(cpu, seconds, peak)
