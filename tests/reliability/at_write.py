"""A backend wrapper that does something right before or right after the real (not dry-run) write
of one of its methods: a fault injected there, or the process dying there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Killed(BaseException):
    """The process dies here (kill -9): nothing after this line of the execution runs."""


def die() -> None:
    raise Killed


class AtWrite:
    """Forwards everything to ``backend``; its ``method``'s real write runs ``before`` first and
    ``after`` once done (dry runs pass untouched)."""

    def __init__(
        self,
        backend: Any,
        method: str,
        before: Callable[[], None] = lambda: None,
        after: Callable[[], None] = lambda: None,
    ) -> None:
        self._backend = backend
        self._method = method
        self._before = before
        self._after = after

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._backend, name)
        if name != self._method:
            return real

        def write(*args: Any, dry_run: bool = False, **kwargs: Any) -> Any:
            if dry_run:
                return real(*args, dry_run=True, **kwargs)
            self._before()
            done = real(*args, **kwargs)
            self._after()
            return done

        return write
