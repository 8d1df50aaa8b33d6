"""How every `medic` command reports failure: one line on stderr, a meaningful exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from bot import messages
from bot.errors import MedicError

EXIT_FAILED = 4  # failed, or a cluster or the state database could not be reached: try again

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn Medic's own errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from sqlalchemy.exc import DBAPIError

        from knowledge.errors import KnowledgeError
        from tools.errors import StateUnavailableError, ToolError
        from tools.transactions import transient_reason

        try:
            return command(*args, **kwargs)
        except MedicError as exc:
            typer.echo(f"medic: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except (ToolError, KnowledgeError) as exc:
            typer.echo(f"medic: {exc}", err=True)
            raise typer.Exit(1) from None
        except (StateUnavailableError, DBAPIError) as exc:  # DBAPIError: e.g. creating a table
            reason = exc.reason if isinstance(exc, StateUnavailableError) else transient_reason(exc)
            if reason is None:
                raise
            typer.echo(messages.STATE_UNAVAILABLE.format(reason=reason), err=True)
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper
