"""How every `medic` command reports failure: one line on stderr, a meaningful exit code."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer

from bot import messages
from bot.errors import MedicError

EXIT_FAILED = 4  # failed, or a cluster or the state database could not be reached: try again
EXIT_BAD_INPUT = 2
MAX_LINE = 1000  # characters of one line Medic prints about what someone typed or configured
# Characters a terminal acts on instead of showing: C0/C1 controls (escape sequences, carriage
# return), format characters (bidirectional overrides), line and paragraph separators, and
# lone surrogates (bytes of an argument that were not UTF-8).
_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}

P = ParamSpec("P")
R = TypeVar("R")


def printable(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one line safe for a terminal: every control or invisible character written as
    an escape (``\\x1b``, ``\\n``, ``\\u202e``), at most ``limit`` characters."""
    shown = "".join(  # escapes only lengthen: the first ``limit`` characters are enough
        ch if unicodedata.category(ch) not in _HIDDEN else ascii(ch)[1:-1] for ch in text[:limit]
    )
    return shown if len(shown) <= limit and len(text) <= limit else shown[: limit - 1] + "\u2026"


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn Medic's own errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from sqlalchemy.exc import DBAPIError

        from knowledge.errors import KnowledgeError
        from tools.errors import PolicyError, StateUnavailableError, ToolError
        from tools.transactions import transient_reason

        try:
            return command(*args, **kwargs)
        except MedicError as exc:
            _fail(exc, exc.exit_code)
        except PolicyError as exc:  # the policy file: configuration, like MEDIC_CONFIG's
            _fail(exc, EXIT_BAD_INPUT)
        except (ToolError, KnowledgeError) as exc:
            _fail(exc, 1)
        except (StateUnavailableError, DBAPIError) as exc:  # DBAPIError: e.g. creating a table
            reason = exc.reason if isinstance(exc, StateUnavailableError) else transient_reason(exc)
            if reason is None:
                raise
            typer.echo(messages.STATE_UNAVAILABLE.format(reason=printable(reason)), err=True)
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper


def _fail(exc: Exception, code: int) -> NoReturn:
    typer.echo(f"medic: {printable(str(exc))}", err=True)
    raise typer.Exit(code) from None
