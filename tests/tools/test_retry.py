"""Retries: transient errors only, exponential backoff with jitter, Retry-After honoured, and a
non-idempotent step never resent when it may have applied."""

from __future__ import annotations

import contextlib

import pytest

from tools.errors import InvalidRequestError, TransientError
from tools.retry import RetryPolicy


class Flaky:
    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def policy(waits: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, initial_seconds=1.0, max_seconds=8.0, sleep=waits.append)


def test_transient_errors_back_off_exponentially_with_jitter_up_to_the_cap() -> None:
    waits: list[float] = []
    fn = Flaky(*[TransientError("503", may_have_applied=True) for _ in range(5)])
    with pytest.raises(TransientError):
        policy(waits, attempts=5).call(fn, idempotent=True)
    assert fn.calls == 5 and len(waits) == 4
    caps = [1.0, 2.0, 4.0, 8.0]  # initial_seconds doubling, capped at max_seconds
    assert all(w <= cap for w, cap in zip(waits, caps, strict=True))


def test_client_errors_are_never_retried() -> None:
    waits: list[float] = []
    fn = Flaky(InvalidRequestError("422"))
    with pytest.raises(InvalidRequestError):
        policy(waits).call(fn, idempotent=True)
    assert fn.calls == 1 and waits == []


def test_retry_after_is_a_lower_bound_and_too_long_a_wait_gives_up() -> None:
    waits: list[float] = []
    fn = Flaky(TransientError("429", may_have_applied=False, retry_after=5.0))
    assert policy(waits).call(fn, idempotent=False) == "done"
    assert waits and waits[0] >= 5.0
    slow = Flaky(TransientError("429", may_have_applied=False, retry_after=3600.0))
    with pytest.raises(TransientError):
        policy([]).call(slow, idempotent=True)
    assert slow.calls == 1


@pytest.mark.parametrize(
    ("idempotent", "may_have_applied", "calls"),
    [
        (True, True, 2),  # setting replicas to 6 twice is harmless
        (False, False, 2),  # the request certainly did not arrive: resend
        (False, True, 1),  # it may have applied: never resend
    ],
)
def test_non_idempotent_steps_are_resent_only_when_they_certainly_did_not_apply(
    idempotent: bool, may_have_applied: bool, calls: int
) -> None:
    fn = Flaky(TransientError("timeout", may_have_applied=may_have_applied))
    with contextlib.suppress(TransientError):
        policy([]).call(fn, idempotent=idempotent)
    assert fn.calls == calls
