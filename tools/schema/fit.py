"""Values from outside fitted to their bounded columns, in one place: PostgreSQL refuses a value
longer than its ``VARCHAR(n)`` (StringDataRightTruncation) and the alert or event carrying it
was lost, where SQLite kept it whole. A column declared with one of these types fits every value
bound to it - in an insert, an update and a ``WHERE`` alike, so a lookup finds what was stored:

- :class:`Clipped` for display text (an alert's name, who asked): cut to the column.
- :class:`Hashed` for identities (a label used as a key, a delivery's id): a value that does not
  fit becomes a stable hash that does, so two long values sharing a prefix stay two.

The database type is the plain ``VARCHAR(n)``: no migration is needed to adopt them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def clipped(value: str, length: int) -> str:
    return value[:length]


def hashed(value: str, length: int) -> str:
    """``value`` when it fits in ``length`` characters, else ``#`` and its SHA-256 (hex, cut to
    the column): stable, and distinct from any value that fits unless it starts with ``#``."""
    if len(value) <= length:
        return value
    return ("#" + hashlib.sha256(value.encode("utf-8", errors="surrogatepass")).hexdigest())[
        :length
    ]


class _Fitted(TypeDecorator[str]):
    """``String(length)`` whose string values pass through ``fit`` when bound."""

    impl = String
    fit: staticmethod[[str, int], str]

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return self.fit(value, self.length) if isinstance(value, str) else value


class Clipped(_Fitted):
    """``String(length)`` whose values are cut to ``length`` characters (display text)."""

    cache_ok = True  # SQLAlchemy reads it from each class's own namespace, not a base's
    fit = staticmethod(clipped)


class Hashed(_Fitted):
    """``String(length)`` whose values longer than ``length`` are stored as a stable hash
    (identities: the key still matches its copies, and only them)."""

    cache_ok = True
    fit = staticmethod(hashed)
