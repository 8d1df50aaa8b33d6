"""Transient database errors, retried: one policy for every transaction on the state database.

SQLite answers "database is locked" when another process holds its write lock longer than the busy
timeout; PostgreSQL drops the connection when the server restarts (or cannot be reached at all)
and aborts a transaction on a serialization failure or a deadlock. Each of these leaves the
transaction undone, so - as SQLAlchemy advises - the function that owns the transaction runs again
from its start, with jittered exponential backoff, until the engine's retry budget is spent; then
:class:`~tools.errors.StateUnavailableError` names the cause in plain words. Any other database
error is a bug or a broken schema and propagates at once.

A retried transaction must be safe to run again after a commit whose answer was lost (the server
committed, the connection died before saying so): the stores make their writes recognise their
own earlier attempt (a claim token on proposal transitions, get-or-create for inserts).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay
from tenacity.wait import wait_random_exponential

from tools.errors import StateUnavailableError

log = logging.getLogger(__name__)

RETRY_OPTION = "medic_retry_seconds"  # the engine's execution option holding its retry budget
DEFAULT_RETRY_SECONDS = 30.0
LOCKED = "the state database is locked by another process"
UNREACHABLE = "the state database server cannot be reached"
CONFLICT = "the state database kept aborting the transaction as conflicting with another one"
BUSY = "every connection to the state database stayed in use (the server is slow to answer)"
SLOW = "the state database kept cancelling a statement after database.statement_timeout_seconds"
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
# PostgreSQL: connection exceptions (class 08), the server shutting down or starting up (57P0x),
# serialization failures and deadlocks (40001, 40P01).
_PG_GONE = ("57P01", "57P02", "57P03")
_PG_CONFLICT = ("40001", "40P01")
# A statement the server cancelled after statement_timeout (57014), a lock not had in time (55P03).
_PG_SLOW = ("57014", "55P03")


def transient_reason(exc: BaseException) -> str | None:
    """Why ``exc`` may pass if the transaction runs again, in plain words (no host, no driver
    detail: the words are shown to people; the exception itself goes to the log); None if it
    will not pass."""
    if isinstance(exc, PoolTimeoutError):  # no pooled connection came free within pool_timeout
        return BUSY
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    if isinstance(said := getattr(orig, "medic_reason", None), str):
        return said  # a bound of Medic's own ended the wait (bot/database_bounds.py)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return LOCKED if code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED) else None
    state = getattr(orig, "sqlstate", None)
    if exc.connection_invalidated or (state is None and isinstance(exc, OperationalError)):
        return UNREACHABLE
    if state is not None and (state.startswith("08") or state in _PG_GONE):
        return UNREACHABLE
    if state in _PG_CONFLICT:
        return CONFLICT
    if state in _PG_SLOW:
        return SLOW
    return None


def with_retry_budget(engine: Engine, seconds: float) -> Engine:
    """``engine`` carrying how long its transactions are retried (``database.retry_seconds``)."""
    return engine.execution_options(**{RETRY_OPTION: seconds})


def retry_budget(engine: Engine) -> float:
    return float(engine.get_execution_options().get(RETRY_OPTION, DEFAULT_RETRY_SECONDS))


class OnEngine(Protocol):
    """A store: it keeps its engine in ``_engine``."""

    _engine: Engine


S = TypeVar("S", bound=OnEngine)
P = ParamSpec("P")
R = TypeVar("R")


def transaction(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Marks a store method that owns one transaction: it runs again from its start while the
    database's error is transient, for at most the engine's retry budget."""

    @functools.wraps(method)
    def run(store: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        engine = store._engine
        retrying = Retrying(
            stop=stop_after_delay(retry_budget(engine)),
            wait=wait_random_exponential(multiplier=0.05, max=2.0),
            retry=retry_if_exception(lambda exc: transient_reason(exc) is not None),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(method, store, *args, **kwargs)
        except (DBAPIError, PoolTimeoutError) as exc:
            reason = transient_reason(exc)
            if reason is None:
                raise
            raise StateUnavailableError(reason) from exc

    return run


def _log_retry(state: RetryCallState) -> None:
    """Once per transaction at warning level; each further attempt at debug level."""
    exc = state.outcome.exception() if state.outcome else None
    orig = getattr(exc, "orig", None) or exc
    log.log(
        logging.WARNING if state.attempt_number == 1 else logging.DEBUG,
        "%s (%s; attempt %d, %.1f s); retrying",
        transient_reason(exc) if exc else "state database error",
        (str(orig).strip().splitlines() or [""])[0][:200],
        state.attempt_number,
        state.seconds_since_start or 0.0,
    )


__all__ = [
    "StateUnavailableError",
    "retry_budget",
    "transaction",
    "transient_reason",
    "with_retry_budget",
]
