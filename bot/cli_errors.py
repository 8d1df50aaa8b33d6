"""How every `medic` command reports failure: one line on stderr, a meaningful exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from bot.errors import MedicError

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn Medic's own errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from knowledge.errors import KnowledgeError
        from tools.errors import ToolError

        try:
            return command(*args, **kwargs)
        except MedicError as exc:
            typer.echo(f"medic: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except (ToolError, KnowledgeError) as exc:
            typer.echo(f"medic: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper
