"""How every `medic` command reports failure: one line on stderr, a meaningful exit code."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer

# typer carries its own copy of click (since 0.2x): its exceptions, not the click package's, are
# the ones raised while parsing a command line.
from typer._click import ClickException, Context
from typer.core import TyperGroup

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
    shown = "".join(_escaped(ch) for ch in text[:limit])  # escapes only lengthen
    return shown if len(shown) <= limit and len(text) <= limit else shown[: limit - 1] + "\u2026"


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal acts on written as its escape, as
    :func:`printable` does, but of any length and keeping its line breaks (what rich draws)."""
    if text.isprintable():
        return text
    return "".join(ch if ch == "\n" else _escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    return ch if unicodedata.category(ch) not in _HIDDEN else ascii(ch)[1:-1]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn Medic's own errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from sqlalchemy.exc import DBAPIError

        from knowledge.errors import CorpusError, KnowledgeError
        from tools.errors import PolicyError, StateUnavailableError, ToolError
        from tools.transactions import transient_reason

        try:
            return command(*args, **kwargs)
        except MedicError as exc:
            _fail(exc, exc.exit_code)
        except PolicyError as exc:  # the policy file: configuration, like MEDIC_CONFIG's
            _fail(exc, EXIT_BAD_INPUT)
        except CorpusError as exc:  # the --data a person gave is not the corpus
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


class CommandGroup(TyperGroup):
    """Every `medic` command group (``typer.Typer(cls=CommandGroup)``): a usage error - an
    unknown option, a missing argument, a bad value, no command at all - is one line on stderr
    and exit 2, as Medic's own errors are, instead of click's usage line, hint and framed box
    (`--help` is unchanged). The top group catches them for every command under it."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        # A group given no command: said in a line (click would print the whole help, on
        # stdout, and exit 2).
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            ctx.fail(messages.NO_COMMAND)
        return super().parse_args(ctx, args)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        with _click_errors_on_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        with _click_errors_on_one_line():  # the commands' and the groups' under this one
            return super().invoke(ctx)


@contextmanager
def _click_errors_on_one_line() -> Iterator[None]:
    """A usage error (exit 2) as one line naming the command's help; any other error of the
    command line's parser as one line with its own exit code."""
    try:
        yield
    except ClickException as exc:
        problem = exc.format_message()
        ctx: Context | None = getattr(exc, "ctx", None)
        if ctx is not None:
            problem = messages.USAGE_PROBLEM.format(problem=problem, command=_command_path(ctx))
        _fail(Exception(problem), exc.exit_code)


def _command_path(ctx: Context | None) -> str:
    """'medic eval nab', whatever the program was called (``python -c``, a test's runner)."""
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["medic", *reversed(names)])
