"""An incident id typed at the terminal is data: one that names no incident - a number beyond
any incident's, thousands of digits, digits of another script - is "no incident" in one line,
exit 2 (was an OverflowError or ValueError traceback from `medic postmortem draft|publish`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli.app import app


@pytest.mark.parametrize(
    "incident",
    ["INC-" + "9" * 30, "INC-" + "9" * 5000, "INC-2147483648", "INC-\u0663"],
    ids=["30 digits", "5000 digits", "beyond INTEGER", "arabic-indic digit"],
)
@pytest.mark.parametrize("command", ["draft", "publish"])
def test_an_incident_id_naming_no_incident_is_one_line_and_exit_2(
    command: str, incident: str
) -> None:
    result = CliRunner().invoke(app, ["postmortem", command, incident])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("medic: no incident 'INC-") and len(line) < 200
