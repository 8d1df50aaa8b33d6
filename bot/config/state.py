"""Settings of the state database: how long a busy one is waited out, and when an action left
executing is taken for interrupted and settled."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.database import BUSY_TIMEOUT_SECONDS, CONNECT_TIMEOUT_SECONDS
from bot.database_bounds import ANSWER_GRACE_SECONDS, STATEMENT_TIMEOUT_SECONDS
from tools.transactions import DEFAULT_RETRY_SECONDS


class DatabaseSettings(BaseModel):
    """How long Medic waits out a busy state database before telling the person it could not
    record what they did (see tools/transactions.py)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    busy_timeout_seconds: float = Field(
        BUSY_TIMEOUT_SECONDS,
        ge=0,
        le=60,
        description="SQLite: how long one statement waits for another writer.",
    )
    connect_timeout_seconds: float = Field(
        CONNECT_TIMEOUT_SECONDS,
        gt=0,
        le=600,
        description="PostgreSQL: how long a new connection to the server may take (a server "
        "that accepts and never answers is then a transient error, retried within "
        "retry_seconds, not a hang).",
    )
    statement_timeout_seconds: float = Field(
        STATEMENT_TIMEOUT_SECONDS,
        ge=0.1,
        le=3600,
        description="PostgreSQL (psycopg): the server cancels a statement running longer "
        "(statement_timeout), and Medic gives up on a server that has not answered for this "
        f"long plus {ANSWER_GRACE_SECONDS:g} s (frozen mid-query, a proxy keeping a dead "
        "connection): the connection is dropped and the transaction retried within "
        "retry_seconds, not a hang.",
    )
    retry_seconds: float = Field(
        DEFAULT_RETRY_SECONDS,
        ge=0,
        le=600,
        description="How long a transaction is retried on a transient error (SQLite locked, "
        "PostgreSQL restarted or unreachable, serialization failure) before giving up.",
    )


class ReconcileSettings(BaseModel):
    """Actions interrupted mid-execution (a crash, a kill): checked against the target's real
    state and settled, never run again (tools/reconcile.py)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    after_seconds: float = Field(
        600,
        gt=0,
        description="An action still executing this long after it started is taken for "
        "interrupted; the tools' retries give up well before (docs/security.md).",
    )
    interval_seconds: float = Field(
        60,
        gt=0,
        description="How often `medic serve` looks for interrupted actions, and for proposals "
        "whose approval expired undecided (their buttons then go).",
    )
