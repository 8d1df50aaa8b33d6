"""Background work that must not run in Slack's 3-second ack path, on thread pools that know when
they are idle (so tests and benchmarks can wait for the work they started, not for a guess)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class TrackedExecutor(ThreadPoolExecutor):
    """A thread pool that counts its unfinished work and logs failures instead of losing them."""

    def __init__(self, max_workers: int, name: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self._busy = 0
        self._lock = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self._busy += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            log.error("background job failed", exc_info=error)
        with self._lock:
            self._busy -= 1
            self._lock.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._busy == 0, timeout=timeout)


class Jobs:
    """Investigations run one at a time (CPU-bound, two cores); verifications mostly wait, so
    several may wait at once; Bolt's lazy listeners get a pool of their own."""

    def __init__(self, listener_workers: int = 6, verification_workers: int = 8) -> None:
        self.investigations = TrackedExecutor(1, "investigate")
        self.verifications = TrackedExecutor(verification_workers, "verify")
        self.listeners = TrackedExecutor(listener_workers, "slack-lazy")
        self.writebacks = TrackedExecutor(2, "writeback")  # notes to PagerDuty/Opsgenie

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every pool is idle, ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        return all(
            pool.wait_idle(max(0.0, deadline - time.monotonic()))
            for pool in (self.listeners, self.investigations, self.verifications, self.writebacks)
        )

    def shutdown(self) -> None:
        for pool in (self.listeners, self.investigations, self.verifications, self.writebacks):
            pool.shutdown(wait=False, cancel_futures=True)


class Periodic:
    """Runs ``work`` at once and then every ``interval`` seconds on a thread of its own, until
    stopped; a failing run is logged and the next one comes all the same."""

    def __init__(self, interval: float, work: Callable[[], object], name: str) -> None:
        self._interval = interval
        self._work = work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._work()
            except Exception:
                log.exception("%s failed; again in %.0f s", self._thread.name, self._interval)
            self._stop.wait(self._interval)
