"""`medic eval scenarios`: the whole suite through the whole path, LLM off, meets its target."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli.app import app

pytestmark = pytest.mark.slow


def test_the_suite_meets_its_target_and_ends_with_the_summary() -> None:
    result = CliRunner().invoke(app, ["eval", "scenarios", "--json"])
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    *scenarios, summary = lines
    assert set(summary) == {"scenarios", "remediation", "hypothesis"}
    assert summary["scenarios"] == len(scenarios) >= 12
    assert summary["remediation"]["top1"] >= 0.9
    assert summary["hypothesis"]["top3"] >= 0.9
    # the tempting remedy is never what Medic proposes first
    first = {s["name"]: s["proposals"][0]["tool"] for s in scenarios if s["proposals"]}
    assert all(first[s["name"]] != s["tempting"] for s in scenarios if s["name"] in first)
    assert all(s["planning_ms"] < 100 for s in scenarios)


def test_unknown_scenarios_are_refused_in_one_line() -> None:
    result = CliRunner().invoke(app, ["eval", "scenarios", "no-such-thing"])
    assert result.exit_code == 2
    assert result.stderr.startswith("medic: unknown scenario 'no-such-thing' (known: ")
