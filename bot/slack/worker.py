"""One background worker thread: the alert intake (:class:`bot.slack.inbox.AlertIntake`) and the
Slack delivery (:class:`bot.slack.delivery.SlackDelivery`) are both one daemon thread that works
while there is work, then sleeps until woken or its pause ends, and survives a failing database.

Tests and benchmarks wait for a worker to be idle: its thread found nothing to do and nobody woke
it since (``settled`` then says whether the work is really all done - another process may have
added some it has not been told about).
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class Worker(ABC):
    """Subclasses do one pass of work in :meth:`work` and say in :meth:`settled` whether
    nothing is left; ``name`` names the thread (and the log line when a pass fails)."""

    name = "worker"
    failure_pause = 0.0  # seconds to wait after a pass failed, before sleeping as idle

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None

    @abstractmethod
    def work(self) -> bool:
        """One pass; True when it did something (another pass follows at once)."""

    @abstractmethod
    def settled(self) -> bool:
        """Nothing left to do, as far as the store tells."""

    def pause(self) -> float:
        """How long to sleep when idle, unless woken."""
        return 1.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        with self._idle:
            self._busy = True
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the worker is idle and :meth:`settled` (tests, benchmarks); False on
        timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._idle:
                idle = self._idle.wait_for(
                    lambda: not self._busy, timeout=max(0.0, deadline - time.monotonic())
                )
            if not idle:
                return False
            if self.settled():
                return True
            if time.monotonic() >= deadline:
                return False
            self.wake()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._idle:
                self._busy = True  # working: not idle, woken or not
            worked = False
            try:
                worked = self.work()
            except Exception:  # the database itself failed: wait and try again
                log.exception("%s failed; retrying", self.name.replace("-", " "))
                time.sleep(self.failure_pause)
            if worked:
                continue
            with self._idle:
                if not self._wake.is_set():
                    self._busy = False
                    self._idle.notify_all()
            self._wake.wait(timeout=self._until_next_look())

    def _until_next_look(self) -> float:
        """:meth:`pause`, or 1 s when it cannot be told: the delivery asks the database when
        its next retry is due, and a database that failed right then (frozen, restarting)
        ended the thread for good - every later message stayed unsent until a restart."""
        try:
            return self.pause()
        except Exception:
            log.exception("%s could not tell when to look again; in 1 s", self.name)
            return 1.0
