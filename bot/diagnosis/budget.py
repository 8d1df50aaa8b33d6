"""The time one investigation may take: a deadline checked between its stages and handed to its
sources as "seconds left" (each source at most half of what is left, so a slow Prometheus or log
read never outlives it nor starves the stages after it), and the service's stop flag, which ends
the investigation at its next check when `medic serve` shuts down."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot import messages
from bot.errors import MedicError


class OutOfTimeError(MedicError):
    """The investigation ran past its budget (``investigation.timeout_seconds``)."""


class StoppedError(MedicError):
    """The service is stopping: the investigation was left unfinished, to resume at the next
    start."""


class Budget:
    """``seconds`` from now, unless ``stop`` is set first."""

    def __init__(
        self,
        seconds: float,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._stop = stop
        self._clock = clock
        self._deadline = clock() + seconds

    def left(self) -> float:
        """Seconds left; none once the service is stopping."""
        if self._stop is not None and self._stop.is_set():
            return 0.0
        return max(0.0, self._deadline - self._clock())

    def share(self, fraction: float = 0.5) -> Callable[[], float]:
        """Seconds left for one stage: at most ``fraction`` of what is left now, so a stalled
        source leaves time for the stages after it."""
        end = self._clock() + fraction * self.left()
        return lambda: min(self.left(), max(0.0, end - self._clock()))

    def check(self, stage: str) -> None:
        """Raise before ``stage`` (words: "reading the logs") when no time is left."""
        if self._stop is not None and self._stop.is_set():
            raise StoppedError(messages.INVESTIGATION_STOPPED.format(stage=stage))
        if self.left() <= 0:
            raise OutOfTimeError(
                messages.INVESTIGATION_OUT_OF_TIME.format(seconds=self.seconds, stage=stage)
            )
