"""The one declarative base: every table Medic keeps - incidents, proposals, the audit log,
corrections, the Slack threads, outbox and inbox, the health probe - is declared on it, so one
metadata describes the whole schema and Alembic's migrations can be checked against it.

It lives in ``tools/`` because the stores of ``tools/`` (proposals, audit) use it and ``tools/``
never imports ``bot/``; the stores of ``bot/`` import it from here. :func:`record_from` is the
one row conversion the stores share: a frozen record filled from the row's same-named columns.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from sqlalchemy.orm import DeclarativeBase

R = TypeVar("R")


class Base(DeclarativeBase):
    """Every table of Medic's schema; nothing creates its tables but the migrations."""


def record_from(record: type[R], row: Base, /, **computed: Any) -> R:
    """``record`` (a dataclass) from ``row``: each field from the column of the same name, unless
    ``computed`` gives it (decoded JSON, a value made of several columns); fields that are neither
    a column nor computed keep their defaults."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(record):  # type: ignore[arg-type]
        if field.name in computed:
            values[field.name] = computed[field.name]
        elif hasattr(row, field.name):
            values[field.name] = getattr(row, field.name)
    return record(**values)
