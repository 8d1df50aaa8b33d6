"""The cache backend on Redis: delete the keys matching a pattern, in batches, never FLUSHALL.

SCAN walks the keyspace without blocking the server; each batch is sized with MEMORY USAGE and
removed with UNLINK (freed in the background). Deleting a key twice deletes nothing, so a batch is
safe to resend after a transient failure. The guard has already checked that the pattern lies
within an allowed key prefix.

Each Redis call, its retries included, ends within ``timeout`` seconds (``redis_timeout_seconds``):
half of it is each try's socket timeout (connecting, and every read), and no new try starts once
the other half has passed. A Redis that accepts connections and never answers (a stopped VM
behind a live address, a proxy pointing nowhere) used to cost four 10 s socket timeouts plus
backoff - about 45 s - per call, twice per approved purge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tools.backends import PurgeResult
from tools.errors import InvalidRequestError, PermissionDeniedError, TransientError
from tools.retry import RetryPolicy

T = TypeVar("T")

TIMEOUT_SECONDS = 6.0  # the longest one Redis call may take, its retries included
SETTING = "redis_timeout_seconds"


def client_for(url: str, connect_timeout: float = TIMEOUT_SECONDS / 2) -> redis.Redis:
    """A client without redis-py's own retries (``RetryPolicy`` decides what is retried) whose
    every connect and read gives up after ``connect_timeout`` seconds."""
    return redis.Redis.from_url(
        url,
        socket_timeout=connect_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 0),
    )


class RedisCache:
    def __init__(
        self,
        client: redis.Redis,
        *,
        batch: int = 500,
        retry: RetryPolicy | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._redis = client
        self._batch = batch
        self._timeout = timeout
        self._retry = retry or RetryPolicy(within_seconds=timeout / 2)

    @classmethod
    def from_url(
        cls, url: str, *, batch: int = 500, timeout: float = TIMEOUT_SECONDS
    ) -> RedisCache:
        """Redis at ``url``; each call, retries included, ends within ``timeout`` seconds."""
        return cls(client_for(url, timeout / 2), batch=batch, timeout=timeout)

    def purge(self, pattern: str, *, dry_run: bool = False) -> PurgeResult:
        keys = 0
        freed: int | None = 0
        cursor = 0
        while True:
            cursor, batch = self._call(
                lambda c=cursor: self._redis.scan(cursor=c, match=pattern, count=self._batch)  # type: ignore[misc]
            )
            if batch:
                sizes = self._call(lambda b=batch: self._memory_usage(b))  # type: ignore[misc]
                freed = None if freed is None or sizes is None else freed + sizes
                if dry_run:
                    keys += len(batch)
                else:
                    keys += int(self._call(lambda b=batch: self._redis.unlink(*b)))  # type: ignore[misc]
            if int(cursor) == 0:
                return PurgeResult(keys, freed)

    def _memory_usage(self, keys: list[bytes]) -> int | None:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.memory_usage(key)
        try:
            return sum(int(size or 0) for size in pipe.execute())
        except redis.ResponseError:
            return None  # MEMORY USAGE disabled (some managed Redis): count keys only

    def _call(self, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return fn()
            except redis.exceptions.NoPermissionError as exc:
                raise PermissionDeniedError(
                    f"Redis refused Medic's user: {exc}; grant it SCAN, MEMORY and UNLINK on the "
                    "allowed key prefixes"
                ) from exc
            except redis.ConnectionError as exc:
                raise TransientError(f"cannot reach Redis: {exc}", may_have_applied=True) from exc
            except redis.TimeoutError as exc:
                raise TransientError(
                    f"Redis did not answer within {self._timeout / 2:g} s (a try's half of "
                    f"{SETTING}, {self._timeout:g} s; {exc})",
                    may_have_applied=True,
                ) from exc
            except redis.ResponseError as exc:
                raise InvalidRequestError(f"Redis refused the command: {exc}") from exc

        return self._retry.call(attempt, idempotent=True)
