"""Retries for backend calls: exponential backoff with jitter, on transient errors only.

A 4xx never retries. A 429 waits at least its Retry-After. A call that is not idempotent (creating
an Alertmanager silence) is sent again only when the failure proves it changed nothing; idempotent
writes (set replicas to N, set a restart annotation to a fixed value, replace a template) are safe
to resend after any transient failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from tools.errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_seconds: float = 0.5
    max_seconds: float = 8.0
    max_retry_after_seconds: float = 30.0  # a longer Retry-After is treated as a failure
    # No new attempt starts this long after the first began (None: attempts alone decide): with
    # each attempt's own timeout, the whole call is bounded by their sum, never the attempts'
    # product (a server that accepts and never answers cost 4 timeouts plus backoff per call).
    within_seconds: float | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def call(self, fn: Callable[[], T], *, idempotent: bool) -> T:
        """``fn()``, retried while it raises a ``TransientError`` that is safe to retry."""
        jitter = wait_random_exponential(multiplier=self.initial_seconds, max=self.max_seconds)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = exc.retry_after if isinstance(exc, TransientError) else None
            return max(float(jitter(state)), after or 0.0)

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, TransientError):
                return False
            if (exc.retry_after or 0.0) > self.max_retry_after_seconds:
                return False
            return idempotent or not exc.may_have_applied

        stop: stop_base = stop_after_attempt(self.attempts)
        if self.within_seconds is not None:
            stop = stop | stop_before_delay(self.within_seconds)
        retrying = Retrying(
            stop=stop,
            wait=wait,
            retry=retry_if_exception(retryable),
            reraise=True,
            sleep=self.sleep,
        )
        return retrying(fn)


NO_RETRY = RetryPolicy(attempts=1)
