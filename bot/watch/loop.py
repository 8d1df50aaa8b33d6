"""The scheduled watch inside `medic serve`: a pass every ``interval`` seconds on a thread of its
own. Passes are numbered by the database's time (``slot``); the replica that claims a slot in the
database runs it, the others skip it, so several replicas never post the same heads-up twice, and
whichever replica is alive runs the next one, whatever its own clock says. Stopping (SIGTERM)
ends the wait at once and a running pass before its next service."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.watch.findings import Target, WatchPass
from bot.watch.publish import HeadsUps, Published
from bot.watch.runner import Watch
from bot.watch.store import WatchStore, pass_slot

__all__ = ["WatchLoop", "pass_slot"]

log = logging.getLogger(__name__)


WAKE_LATE = 0.5  # seconds after a slot's start to claim it: safely inside it


class WatchLoop:
    def __init__(
        self,
        *,
        watch: Watch,
        targets: Callable[[], list[Target]],
        headsups: HeadsUps,
        store: WatchStore,
        interval: float,
        owner: str,
        now: Callable[[], float],
    ) -> None:
        self._watch = watch
        self._targets = targets
        self._headsups = headsups
        self._store = store
        self._interval = interval
        self._owner = owner
        self._now = now
        self.stopping = threading.Event()
        self._next: float | None = None  # monotonic time of the next slot's start, once known
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)

    def run_pass(self) -> tuple[WatchPass, Published] | None:
        """One pass if this replica claims the current slot; None when another one has it."""
        self._next = None
        claim = self._store.claim_pass(self._interval, self._owner)
        self._next = time.monotonic() + claim.until_next(self._interval)
        if not claim.won:
            return None
        now = self._now()
        result = self._watch.run(self._targets(), now, stopping=self.stopping)
        for note in result.notes:
            log.warning("watch: %s", note)
        if self.stopping.is_set():
            return result, Published()
        published = self._headsups.publish(result.findings, now)
        log.info(
            "watch pass over %d service(s): %d finding(s), %d new heads-up(s), held %s",
            result.services,
            len(result.findings),
            len(published.threads),
            dict(published.held),
        )
        return result, published

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_pass()
            except Exception:  # the next pass comes all the same
                log.exception("watch pass failed; again in %.0f s", self._interval)
            # wake just after the next slot starts by the database's clock (measured on our
            # monotonic one), so each slot gets a claim whatever this host's wall clock says
            if self._next is None:  # the database was away: by our own clock this once
                wait = self._interval - (self._now() % self._interval)
            else:
                wait = self._next - time.monotonic()
            self.stopping.wait(max(1.0, wait + WAKE_LATE))
