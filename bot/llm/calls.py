"""Calling a slow, fallible thing (a language model) with a deadline and a bound on how many such
calls run at once.

Python cannot stop a thread, so a call that misses its deadline is abandoned, not killed: it runs
on a daemon thread (it never keeps the process from exiting), it holds its slot until it really
ends (so abandoned calls cannot pile up: past ``limit`` a new call is refused at once), and it gets
the :class:`Deadline` to check between its steps, so it starts nothing new once the time is up.
The call's own I/O must end by itself too: the model's provider is given a timeout and a retry
limit (:mod:`bot.llm.model`).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceededError(Exception):
    """No answer within the deadline (the call is abandoned; its answer is lost)."""


class BusyError(Exception):
    """Every slot is taken by a call still running (possibly abandoned): try again later."""


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds

    @property
    def remaining(self) -> float:
        return max(0.0, self._ends - self._clock())

    def check(self) -> None:
        """Raise DeadlineExceededError once the time is up: call it before each new step."""
        if self.remaining <= 0:
            raise DeadlineExceededError(f"no answer within {self.seconds:g} s")


class BoundedCalls:
    """At most ``limit`` calls at once, each under its own deadline; ``what`` names them in the
    refusal, ``thread`` their threads (Slack's client too: bot/slack/bounded_client.py)."""

    def __init__(self, limit: int, what: str = "model calls", thread: str = "medic-llm") -> None:
        self.limit = limit
        self._what = what
        self._thread = thread
        self._slots = threading.BoundedSemaphore(limit)

    def run_with_deadline(self, seconds: float, call: Callable[[Deadline], T]) -> T:
        """``call(deadline)``'s result or exception; DeadlineExceededError after ``seconds``;
        BusyError at once when ``limit`` calls are still running."""
        if not self._slots.acquire(blocking=False):
            raise BusyError(f"{self.limit} {self._what} are still running; not asking another")
        deadline = Deadline(seconds)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            try:
                future.set_result(call(deadline))
            except BaseException as exc:  # handed to the waiting caller, if it still waits
                future.set_exception(exc)
            finally:
                self._slots.release()

        threading.Thread(target=work, name=self._thread, daemon=True).start()
        done, _ = concurrent.futures.wait([future], timeout=seconds)
        if not done:
            raise DeadlineExceededError(f"no answer within {seconds:g} s")
        return future.result()


def describe_failure(exc: BaseException) -> str:
    """One line saying what went wrong."""
    if isinstance(exc, DeadlineExceededError | BusyError):
        return str(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
