"""How long a PostgreSQL state database may take to answer, whatever it is doing.

A live but slow server cancels a statement itself after ``database.statement_timeout_seconds``
(libpq ``options=-c statement_timeout``: a lock waited on, a bloated table). A server that stops
answering mid-query - the VM frozen, the backend stopped, a proxy or firewall keeping the
connection and dropping the rest - cancels nothing, and libpq waits on its socket for ever: a
click, a watch pass, `/healthz`, a `medic` command hung with it. So every wait for the server on
a connection made here (a statement, a commit, a ping) ends after that timeout plus
``ANSWER_GRACE_SECONDS``: psycopg's own wait is given the timeout, and a connection whose server
did not answer in it is closed, so SQLAlchemy discards it and the transaction's retries
(``database.retry_seconds``, :mod:`tools.transactions`) take it as the server being away. The
kernel's TCP keepalives and ``tcp_user_timeout`` end a connection to a host that vanished from
the network (no ACK at all) even between statements.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event

if TYPE_CHECKING:  # psycopg is imported only where a PostgreSQL engine is made
    import psycopg

STATEMENT_TIMEOUT_SECONDS = 30.0
ANSWER_GRACE_SECONDS = 2.0  # a server that cancelled its statement says so well within this
KEEPALIVE_IDLE_SECONDS = 30  # TCP keepalives: first probe after this much silence ...
KEEPALIVE_INTERVAL_SECONDS = 10  # ... then one every this long ...
KEEPALIVE_COUNT = 3  # ... and the connection is dead after this many unanswered
SETTING = "database.statement_timeout_seconds"


def silence_reason(seconds: float, bound: str) -> str:
    """What a person is told when the server did not answer within ``seconds`` (``bound``: the
    setting that makes it)."""
    return f"the state database server did not answer within {seconds:g} s ({bound})"


def answer_seconds(statement_timeout: float) -> float:
    """The longest Medic waits for any answer from the server."""
    return statement_timeout + ANSWER_GRACE_SECONDS


def connect_args(statement_timeout: float) -> dict[str, Any]:
    """libpq parameters: the server's own statement timeout, and TCP liveness for a peer that
    vanished (keepalives between statements, ``tcp_user_timeout`` for data never acknowledged)."""
    return {
        "options": f"-c statement_timeout={round(statement_timeout * 1000)}",
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
        "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": round(answer_seconds(statement_timeout) * 1000),
    }


def bound_answers(engine: Engine, statement_timeout: float, bound: str | None = None) -> Engine:
    """``engine``'s psycopg connections wait at most :func:`answer_seconds` for the server;
    ``bound`` names what sets it (default: the setting, plus the grace)."""
    bound = bound or f"{SETTING} plus {ANSWER_GRACE_SECONDS:g} s"
    connection_class = _bounded_connection(answer_seconds(statement_timeout), bound)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
        return connection_class.connect(*cargs, **cparams)

    return engine


def _bounded_connection(seconds: float, bound: str) -> type[psycopg.Connection[Any]]:
    import psycopg
    from psycopg.abc import PQGen

    silent = _silent_error()
    # What psycopg's Connection.wait raises when its ``timeout`` expires (an OperationalError).
    wait_timeout: type[psycopg.OperationalError] = psycopg.errors._WaitTimeout

    class BoundedConnection(psycopg.Connection[Any]):
        """Every wait on the server ends within ``seconds``; past it the connection is closed
        (its protocol state is unknown) and the server is said to be silent."""

        def wait(self, gen: PQGen[Any], *args: Any, **kwargs: Any) -> Any:
            asked = kwargs.get("timeout")
            if asked is not None and float(asked) <= seconds:
                return super().wait(gen, *args, **kwargs)  # a shorter wait of psycopg's own
            kwargs["timeout"] = seconds
            try:
                return super().wait(gen, *args, **kwargs)
            except wait_timeout as exc:
                self.pgconn.finish()  # closed: SQLAlchemy invalidates it, never reuses it
                raise silent(silence_reason(seconds, bound)) from exc

    return BoundedConnection


@cache
def _silent_error() -> type[psycopg.OperationalError]:
    import psycopg

    class ServerSilentError(psycopg.OperationalError):
        """The server did not answer within the bound; ``medic_reason`` says so in plain words
        (:func:`tools.transactions.transient_reason` shows it to people)."""

        def __init__(self, reason: str) -> None:
            self.medic_reason = reason
            super().__init__(reason)

    return ServerSilentError
