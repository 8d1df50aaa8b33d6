"""A command line `medic` cannot parse - an unknown option, a missing argument, a bad value, no
command at all - is one line on stderr and exit 2, like every other error Medic reports, for every
command and command group; `--help` is still the full help."""

from __future__ import annotations

import pytest
import typer.main
from typer._click import Command
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from bot.cli.app import app
from bot.cli.errors import MAX_LINE


def medic(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def assert_one_line(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("medic: ") and result.stderr.count("\n") == 1, result.stderr
    assert len(result.stderr) <= MAX_LINE + len("medic: \n")
    return result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["investigate", "--bogus"],
            "medic: No such option: --bogus (see 'medic investigate --help')",
        ),
        (["act"], "medic: Missing argument 'tool'. (see 'medic act --help')"),
        (["eval", "nab"], "medic: Missing option '--data'. (see 'medic eval nab --help')"),
        (
            ["audit", "list", "--limit", "x"],
            "medic: Invalid value for '--limit': Input should be a valid integer",
        ),
        (["investigate", "a", "b", "c"], "medic: Got unexpected extra argument(s) (c)"),
        ([], "medic: give a command (see 'medic --help')"),
    ],
    ids=["unknown-option", "missing-argument", "missing-option", "bad-value", "extra", "none"],
)
def test_a_usage_error_is_one_line_naming_the_help_to_read(args: list[str], says: str) -> None:
    assert assert_one_line(medic(*args)).startswith(says)


def _groups(command: Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(command, TyperGroup):
        return []
    found = [path]
    for name, sub in command.commands.items():
        found += _groups(sub, (*path, name))
    return found


GROUPS = _groups(typer.main.get_command(app))


@pytest.mark.parametrize("path", GROUPS, ids=[" ".join(p) or "medic" for p in GROUPS])
def test_every_group_without_a_command_says_so_in_one_line(path: tuple[str, ...]) -> None:
    """Not the whole help on stdout with exit 2: a script sees a failure it can read. The help
    it names is the full help, as before."""
    line = assert_one_line(medic(*path))
    assert line == f"medic: give a command (see '{' '.join(('medic', *path))} --help')\n"
    helped = medic(*path, "--help")
    assert helped.exit_code == 0 and helped.stderr == ""
    assert "Usage:" in helped.stdout and "Commands" in helped.stdout


def test_what_was_typed_is_shown_escaped() -> None:
    line = assert_one_line(medic("investigate", "--x\x1b[2J\x1b]0;owned\x07"))
    assert "--x\\x1b[2J\\x1b]0;owned\\x07" in line
