"""Calling a slow, fallible thing (a language model) with a deadline."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceededError(Exception):
    """No answer within the deadline (the call goes on in the background; its answer is lost)."""


def within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``'s result, its exception, or DeadlineExceededError after ``seconds``."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="medic-llm")
    try:
        future = pool.submit(call)
        done, _ = concurrent.futures.wait([future], timeout=seconds)
        if not done:
            raise DeadlineExceededError(f"no answer within {seconds:g} s")
        return future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def failure(exc: BaseException) -> str:
    """One line saying what went wrong."""
    if isinstance(exc, DeadlineExceededError):
        return str(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
