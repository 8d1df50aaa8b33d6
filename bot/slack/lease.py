"""Keeping an investigation's lease while it runs: renewed every third of its length, so a
replica that is alive keeps it and one that died (kill -9, out of memory) loses it within
``investigation.lease_seconds``; another replica then takes the investigation over."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how soon a stopping service ends the investigation


class LeaseKeeper:
    """While entered, renews the lease with ``renew`` (False: it is no longer ours). :attr:`stop`
    is set when the service is ``stopping`` or the lease was lost, so the investigation's budget
    ends it at its next stage."""

    def __init__(
        self, renew: Callable[[], bool], seconds: float, stopping: threading.Event
    ) -> None:
        self._renew = renew
        self._every = seconds / 3
        self._stopping = stopping
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease", daemon=True)
        self.stop = threading.Event()
        self.lost = False

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        due = time.monotonic() + self._every
        while not self._done.wait(POLL_SECONDS):
            if self._stopping.is_set():
                self.stop.set()
            if time.monotonic() < due:
                continue
            due = time.monotonic() + self._every
            try:
                kept = self._renew()
            except Exception:  # the database is away: try again; the lease may run out meanwhile
                log.warning("could not renew an investigation's lease", exc_info=True)
                continue
            if not kept:
                log.warning("an investigation's lease was taken over; leaving it to its new holder")
                self.lost = True
                self.stop.set()
                return
