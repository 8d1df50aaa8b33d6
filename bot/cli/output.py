"""Where a command writes. With ``--json`` the standard output carries the JSON alone (one
object; one per line for `medic eval scenarios` and `medic audit list`), so that `medic ... --json
| jq` works; what is written for a person - the thread, prompts, progress, a one-line summary -
goes to the standard error instead, where a person at a terminal still sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console


def say(text: str, *, as_json: bool) -> None:
    """``text`` for a person: on stdout, or on stderr when stdout is the JSON's."""
    typer.echo(text, err=as_json)


def console(*, as_json: bool, width: int | None = None) -> Console:
    """The rich console a person's output is drawn on: stdout's, or stderr's with ``--json``;
    what it draws cannot drive the terminal (:class:`bot.cli.terminal.TerminalConsole`)."""
    from bot.cli.terminal import TerminalConsole

    return TerminalConsole(stderr=as_json, width=width)
