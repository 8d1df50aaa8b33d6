"""Fuzzing the non-HTTP input surfaces (issue 11, "fuzzcli"): ``--fuzzcli-inputs`` seeded hostile
inputs per surface (tests/reliability/hostile_input.py) through the real code, in process:

- ``act``: `medic act ... --dry-run` with hostile tools, targets, --param values and clusters
  (typer's CliRunner, the simulated cluster);
- ``investigate``: `medic investigate --alert -` with broken webhook bodies;
- ``config``, ``environment``, ``policy``, ``runbooks``: a MEDIC_CONFIG file, one MEDIC_* variable,
  a policy file, a runbook file, through ``load_settings``, ``load_policy``, ``load_runbooks``.

Counted per surface: tracebacks (an exception other than Medic's own error escaping), wrong exit
codes (`medic act`: 0, 2 or 3; `investigate`: 2), errors that are not one line naming their
file or variable, and inputs over the time or memory budget (wall seconds; peak of Python
allocations, tracemalloc). Baseline in the same run: the YAML surfaces' texts through plain
``yaml.safe_load`` (how Medic read them before), counting the exceptions other than
``yaml.YAMLError`` it lets escape. Target: 0 tracebacks, 0 wrong exit codes, 0 unclear errors,
0 inputs over budget.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import load_settings
from bot.errors import ConfigError
from bot.planners.runbooks import load_runbooks
from tests.reliability import hostile_input as hostile
from tools.errors import PolicyError
from tools.policy import load_policy

SURFACES = ("act", "investigate", "config", "environment", "policy", "runbooks")


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--fuzzcli-inputs", type=int, default=1000, help="inputs per surface")
    group.add_argument("--fuzzcli-seed", type=int, default=11)
    group.add_argument("--fuzzcli-seconds", type=float, default=5.0, help="budget per input")
    group.add_argument("--fuzzcli-mib", type=float, default=64.0, help="MiB budget per input")
    group.add_argument("--fuzzcli-surfaces", default=",".join(SURFACES))


class Tally:
    """What one surface's inputs did."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.slowest = 0.0
        self.peak_mib = 0.0

    def note(self, problem: str, example: str) -> None:
        self.counts[problem] += 1
        self.examples.setdefault(problem, example[:200])

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: self.counts[k] for k in ("inputs", "refused", "accepted")},
            **{k: self.counts[k] for k in ("traceback", "wrong_exit", "unclear", "over_budget")},
            "slowest_seconds": round(self.slowest, 3),
            "peak_mib": round(self.peak_mib, 1),
            "examples": self.examples,
        }


def _cli(tally: Tally, args: list[str], codes: set[int], stdin: bytes | None = None) -> None:
    result = CliRunner().invoke(app, args, input=stdin)
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    if escaped is not None:
        tally.note("traceback", f"{type(escaped).__name__}: {escaped!s:.100} for {args!r:.100}")
    elif result.exit_code not in codes:
        tally.note("wrong_exit", f"{result.exit_code}: {result.stderr[:100]!r}")
    elif result.stderr.startswith("medic: ") and result.stderr.count("\n") > 1:
        tally.note("unclear", result.stderr[:200])
    tally.counts["accepted" if result.exit_code == 0 else "refused"] += 1


def _loader(tally: Tally, load: Callable[[], Any], refused: type[Exception], names: str) -> None:
    try:
        load()
        tally.counts["accepted"] += 1
    except refused as exc:
        tally.counts["refused"] += 1
        if "\n" in str(exc) or names not in str(exc):
            tally.note("unclear", str(exc))
    except Exception as exc:
        tally.note("traceback", f"{type(exc).__name__}: {exc!s:.150}")


def _prepared(surface: str, rnd: random.Random, tmp: Path) -> Callable[[Tally], None]:
    """The surface's next input, written where it is read; the call feeds it to Medic."""
    if surface == "act":
        args = hostile.act_args(rnd)
        return lambda tally: _cli(tally, args, {0, 2, 3})
    if surface == "investigate":
        stdin = hostile.alert_payload(rnd)
        investigate = ["investigate", "--alert", "-", "--cluster", "sim"]
        return lambda tally: _cli(tally, investigate, {2}, stdin)
    if surface == "environment":
        name, value = hostile.variable(rnd)
        return lambda tally: _with_variable(tally, name, value)
    if surface == "config":
        path = tmp / "medic.yaml"
        path.write_bytes(hostile.config_file(rnd))
        return lambda tally: _with_variable(tally, "MEDIC_CONFIG", str(path), str(path))
    if surface == "policy":
        path = tmp / "policy.yaml"
        path.write_bytes(hostile.policy_file(rnd))
        return lambda tally: _loader(tally, lambda: load_policy(path), PolicyError, str(path))
    path = tmp / "runbooks" / "team.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(hostile.runbook_file(rnd))
    return lambda tally: _loader(tally, lambda: load_runbooks(path.parent), ConfigError, str(path))


def _with_variable(tally: Tally, name: str, value: str, names: str = "MEDIC_") -> None:
    os.environ[name] = value
    try:
        _loader(tally, lambda: load_settings(cluster="sim"), ConfigError, names)
    finally:
        del os.environ[name]


def _baseline(surface: str, rnd: random.Random) -> str | None:
    """The exception plain ``yaml.safe_load`` lets escape for this surface's next text, if any."""
    make = {
        "config": hostile.config_file,
        "policy": hostile.policy_file,
        "runbooks": hostile.runbook_file,
    }[surface]
    try:
        yaml.safe_load(make(rnd))
    except yaml.YAMLError:
        return None
    except Exception as exc:
        return type(exc).__name__
    return None


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    budget_bytes = args.fuzzcli_mib * 2**20
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="medic-bench-fuzzcli-") as name:
        tmp = Path(name)
        os.environ["MEDIC_DATA_DIR"] = str(tmp / "data")
        for key in [k for k in os.environ if k.startswith("MEDIC_") and k != "MEDIC_DATA_DIR"]:
            del os.environ[key]
        CliRunner().invoke(app, ["act", "restart", "--target", "shop/x", "--cluster", "sim"])
        for surface in args.fuzzcli_surfaces.split(","):
            tally = Tally()
            rnd = random.Random(f"{args.fuzzcli_seed}:{surface}")
            started = time.perf_counter()
            for index in range(args.fuzzcli_inputs):
                feed = _prepared(surface, rnd, tmp)
                began = time.perf_counter()
                feed(tally)  # timed without tracemalloc, which slows Python code 5-20 times
                seconds = time.perf_counter() - began
                _, cost = hostile.measured(lambda feed=feed: feed(Tally()))  # its memory
                tally.counts["inputs"] += 1
                tally.slowest = max(tally.slowest, seconds)
                tally.peak_mib = max(tally.peak_mib, cost.peak_bytes / 2**20)
                if seconds > args.fuzzcli_seconds or cost.peak_bytes > budget_bytes:
                    tally.note("over_budget", f"input {index}: {seconds:.1f} s, "
                               f"{cost.peak_bytes / 2**20:.0f} MiB")  # fmt: skip
            row = tally.as_dict()
            row["seconds"] = round(time.perf_counter() - started, 1)
            if surface in ("config", "policy", "runbooks"):
                base = random.Random(f"{args.fuzzcli_seed}:{surface}")
                escaped = Counter(
                    e for e in (_baseline(surface, base) for _ in range(args.fuzzcli_inputs)) if e
                )
                row["baseline_safe_load_escaped"] = dict(escaped)
            results[surface] = row
            print(
                f"  {surface:12} {row['inputs']:6d} inputs ({row['refused']} refused, "
                f"{row['accepted']} accepted) in {row['seconds']:7.1f} s: "
                f"{row['traceback']} tracebacks, {row['wrong_exit']} wrong exit codes, "
                f"{row['unclear']} unclear errors, {row['over_budget']} over budget; slowest "
                f"{row['slowest_seconds']:.2f} s, peak {row['peak_mib']:.1f} MiB"
                + (
                    f"; baseline safe_load let escape {row['baseline_safe_load_escaped']}"
                    if "baseline_safe_load_escaped" in row
                    else ""
                ),
                flush=True,
            )
            for problem, example in row["examples"].items():
                print(f"    {problem}: {example}")
    os.environ.clear()
    os.environ.update(saved)
    results["target_met"] = all(
        r["traceback"] == r["wrong_exit"] == r["unclear"] == r["over_budget"] == 0
        for r in results.values()
    )
    return results
