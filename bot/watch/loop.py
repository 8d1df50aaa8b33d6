"""The scheduled watch inside `medic serve`: a pass every ``interval`` seconds on a thread of its
own. Passes are numbered by time (``slot``); the replica that claims a slot in the database runs
it, the others skip it, so several replicas never post the same heads-up twice. Stopping (SIGTERM)
ends the wait at once and a running pass before its next service."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bot.watch.findings import Target, WatchPass
from bot.watch.publish import HeadsUps, Published
from bot.watch.runner import Watch
from bot.watch.store import WatchStore

log = logging.getLogger(__name__)


def pass_slot(now: float, interval: float) -> int:
    """The scheduled pass ``now`` falls in, named by its start in whole seconds rather than its
    index: slots of different intervals then compare by time. By index, raising
    ``watch.interval_seconds`` (60 -> 300) made every new slot number smaller than the last one
    claimed, and a replica never runs a slot earlier than one already claimed (a clock behind
    the others', ``WatchStore.claim_pass``): the watch stopped for good, silently."""
    return int(now // interval * interval)


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
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)

    def run_pass(self) -> tuple[WatchPass, Published] | None:
        """One pass if this replica claims the current slot; None when another one has it."""
        now = self._now()
        if not self._store.claim_pass(pass_slot(now, self._interval), self._owner, now):
            return None
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
            # wake at the start of the next slot, so replicas meet on the same one
            wait = self._interval - (self._now() % self._interval)
            self.stopping.wait(max(1.0, wait))
