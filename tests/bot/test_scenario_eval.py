"""`medic eval scenarios`: the whole suite through the whole path, LLM off, meets its target."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from tools.sim import SCENARIOS
from tools.sim.victims import VICTIMS

pytestmark = pytest.mark.slow


def test_the_suite_meets_its_target_and_ends_with_the_summary() -> None:
    result = CliRunner().invoke(app, ["eval", "scenarios", "--json"])
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    *scenarios, summary = lines
    assert set(summary) == {"scenarios", "remediation", "hypothesis", "origin"}
    assert summary["scenarios"] == len(scenarios) >= 12 + len(VICTIMS)
    # where the fault started is named first, whether the alerting service is a victim or not
    assert summary["origin"]["top1"] == 1.0
    assert all(s["origin_rank"] == 1 for s in scenarios)
    # the right remedy and cause come first - for a victim, the remedy acts on its origin
    assert sum(s["remediation_rank"] == 1 for s in scenarios) >= 0.9 * len(scenarios)
    assert sum(s["hypothesis_rank"] in (1, 2, 3) for s in scenarios) >= 0.9 * len(scenarios)
    victims = [s for s in scenarios if s["origin"] != SCENARIOS[s["name"]].service]
    assert len(victims) == 5  # four of issue 14, and one whose origin is an ML service
    assert all(s["remediation_rank"] == 1 for s in victims)
    assert all(s["proposals"][0]["service"] == s["origin"] for s in victims)
    # the tempting remedy, on the service that paged, is never what Medic proposes first
    for s in scenarios:
        if s["proposals"]:
            first = s["proposals"][0]
            assert (first["tool"], first["service"]) != (
                s["tempting"],
                SCENARIOS[s["name"]].service,
            )
    assert all(s["planning_ms"] < 100 for s in scenarios)


def test_unknown_scenarios_are_refused_in_one_line() -> None:
    result = CliRunner().invoke(app, ["eval", "scenarios", "no-such-thing"])
    assert result.exit_code == 2
    assert result.stderr.startswith("medic: unknown scenario 'no-such-thing' (known: ")
