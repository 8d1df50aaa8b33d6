"""Right-sizing from the command line: `medic watch --once` records the scale-in it proposes
(through the guard) and prints its id; a second pass finds the same proposal; `medic approve
ID` carries it out once on the simulated cluster and verifies it; nobody outside the approver
lists can, and hostile ids are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from tests.bot.slack.harness import write_config

SHOP = ("--cluster", "sim", "--scenario", "over-provisioned")


def medic(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def proposed(out: str) -> dict[str, object]:
    findings = json.loads(out.strip().splitlines()[-1])["findings"]
    (over,) = [f for f in findings if f["concern"] == "over-provisioned"]
    assert over["action"] == {"tool": "scale", "params": {"replicas": 2}}
    proposal = over["proposal"]
    assert isinstance(proposal, dict)
    return proposal


def test_watch_once_proposes_and_approve_scales_in_once_and_verifies() -> None:
    code, out, err = medic("watch", "--once", *SHOP, "--service", "checkout", "--json")
    assert code == 0, out
    proposal = proposed(out)
    assert proposal["status"] == "proposed"
    assert f"medic approve {proposal['id']}" in err

    # the next pass finds the same proposal waiting instead of asking again
    code, out, _err = medic("watch", "--once", *SHOP, "--service", "checkout", "--json")
    assert code == 0 and proposed(out)["id"] == proposal["id"]

    # without --yes and without a terminal to ask on: nothing runs
    code, out, _err = medic("approve", str(proposal["id"]), *SHOP)
    assert code == 0 and "not approved" in out.lower(), out

    code, out, err = medic("approve", str(proposal["id"]), *SHOP, "--yes")
    assert code == 0, (out, err)
    assert "scaled deployment shop/checkout: 6 -> 2 replicas" in out
    assert f"Verification of {proposal['incident']}: recovered" in out
    assert "replicas: 2 wanted 2, 2 ready" in out

    # twice: nothing runs again
    code, _out, err = medic("approve", str(proposal["id"]), *SHOP, "--yes")
    assert code == 2 and "is succeeded, not waiting for approval" in err


def test_approve_is_refused_outside_the_approver_lists_and_checks_its_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIC_CONFIG", str(write_config(tmp_path / "medic.yaml")))  # Slack only
    code, out, _err = medic("watch", "--once", *SHOP, "--service", "checkout", "--json")
    assert code == 0, out
    proposal = proposed(out)
    code, out, err = medic("approve", str(proposal["id"]), *SHOP, "--yes")
    assert code == 3 and "may not approve scale in shop" in err, (out, err)
    code, _out, err = medic("approve", "<!channel>" + "x" * 5000, *SHOP)
    assert code == 2 and err.count("\n") == 1 and len(err) < 300
    code, _out, err = medic("approve", "0123456789ab", *SHOP)
    assert code == 2 and "No proposal 0123456789ab" in err
