"""Keeping an investigation's lease while it runs: renewed every third of its length, so a
replica that is alive keeps it and one that died (kill -9, out of memory) loses it within
``investigation.lease_seconds``; another replica then takes the investigation over.

Whether another replica's lease ran out is judged as Kubernetes leader election judges it
(:class:`LeaseWatch`): by the time, on this process's own monotonic clock, since the lease row
last changed - never by comparing the holder's wall clock with ours. Replicas whose clocks
disagree by minutes (a VM resumed from suspend, a host with broken NTP) thus neither steal a live
lease nor wait forever for a dead one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how soon a stopping service ends the investigation


class LeaseWatch:
    """Which other replicas' leases ran out, by this process's clock alone. The lease row's
    holder and ``lease_until`` (rewritten, to a different value, at every renewal) are only
    compared for equality with what this process saw before: a lease is over once it has not
    changed for ``seconds`` of our own time. A process that just started has seen nothing yet,
    so it waits one lease before taking over anything - the price of trusting no other clock.
    Memory: one entry per investigation still awaited (:meth:`keep_only` drops the rest)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, float, float]] = {}  # id -> holder, version, since

    def expired(self, key: str, holder: str, version: float) -> bool:
        """True when ``key``'s lease, held by ``holder`` at ``version``, has not changed for a
        whole lease of our time; a lease nobody holds (released, finished) is free at once."""
        if not holder:
            return True
        now = self._clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is None or (seen[0], seen[1]) != (holder, version):
                self._seen[key] = (holder, version, now)
                return False
            return now - seen[2] >= self._seconds

    def keep_only(self, keys: set[str]) -> None:
        """Forget the leases of every investigation not in ``keys`` (finished, dead-lettered)."""
        with self._lock:
            for key in self._seen.keys() - keys:
                del self._seen[key]


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
