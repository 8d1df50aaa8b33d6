"""Whether a finding becomes a heads-up now: pure rules over what is already open, what was
posted in the last hour and the time of day.

Quiet hours drop, they do not hold: a heads-up is about the present, and a condition that still
holds after the quiet hours is found again by the first pass after them (then posted), while one
that went away would only be stale news in the morning."""

from __future__ import annotations

import math
from enum import StrEnum

from bot.config.watch import QuietHours

HOUR = 3600.0


class Gate(StrEnum):
    POST = "post"
    OPEN = "open"  # the same finding for the same service is already open: no second thread
    RATE_LIMITED = "rate-limited"  # the channel had its heads-ups for this hour
    QUIET = "quiet"  # quiet hours


def in_quiet_hours(quiet: QuietHours | None, now: float) -> bool:
    """Whether ``now`` (Unix seconds, UTC) falls in the daily span; a span may wrap midnight."""
    if quiet is None:
        return False
    start, end = quiet.minutes()
    minute = math.floor(now / 60.0) % (24 * 60)
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def gate(*, already_open: bool, posted_last_hour: int, max_per_hour: int, quiet: bool) -> Gate:
    """The first rule that holds back a heads-up, in the order a person would ask: is it known,
    is it night, has the channel had enough."""
    if already_open:
        return Gate.OPEN
    if quiet:
        return Gate.QUIET
    if posted_last_hour >= max_per_hour:
        return Gate.RATE_LIMITED
    return Gate.POST
