"""Which stretch of time an investigation judges: the suspect window and the baseline before it.

By default the suspect window starts a short lead before the alert's start. When the trouble
began earlier, that baseline is already abnormal and the metrics that moved first look normal.
So the detectors also judge from ``investigation.max_lookback_minutes`` further back: a symptom
they find abnormal before the alert's window began, and still abnormal in it, marks the onset
(its first abnormal point, or where its present level began when an odd point came long before:
``detectors.onset``), and the window starts there. The detectors' own rules decide; there is no
threshold of its own. Someone who knows better says so (``--since 30m``, or the ``medic_since``
annotation): that window is used as given. The window is always bounded: never longer than
``max_window_minutes`` nor ahead of the clock, whatever the alert says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot import messages
from bot.alerts import SINCE_ANNOTATION
from bot.config import InvestigationSettings
from bot.durations import WINDOW_PROBLEM, parse_window
from detectors import Finding, Series
from detectors.onset import level_change

Why = Literal["alert", "onset", "asked"]


@dataclass(frozen=True)
class Window:
    """Baseline [baseline_start, split) against the suspect window [split, end). ``why`` says
    where the split came from; ``onset_of`` names the symptom whose onset it is; ``note`` says
    why it is not the window that was asked for."""

    baseline_start: float
    split: float
    end: float
    note: str = ""
    why: Why = "alert"
    onset_of: str = ""

    def describe(self) -> str:
        """How the suspect window was chosen, in words (the thread and the terminal)."""
        if self.why == "onset":
            return messages.WINDOW_FROM_ONSET.format(metric=self.onset_of)
        if self.why == "asked":
            return messages.WINDOW_AS_ASKED.format(span=span(self.end - self.split))
        return messages.WINDOW_FROM_ALERT


def suspect_window(
    starts_at: float, annotations: dict[str, str], now: float, settings: InvestigationSettings
) -> Window:
    """The window an alert starting at ``starts_at`` asks for: the lead before its start (or
    the ``medic_since`` annotation's span up to now), the baseline before that."""
    baseline = 60.0 * settings.baseline_minutes
    longest = 60.0 * settings.max_window_minutes
    onset, note = starts_at, ""
    if onset > now + 60.0:
        onset, note = now, messages.WINDOW_AHEAD.format(ahead=span(onset - now))
    end = max(now, onset + 60.0)
    split = onset - 60.0 * settings.lead_minutes
    why: Why = "alert"
    asked = annotations.get(SINCE_ANNOTATION)
    if asked is not None:
        seconds = parse_window(asked)
        if seconds is None:
            note = messages.WINDOW_SINCE_IGNORED.format(value=asked[:40], problem=WINDOW_PROBLEM)
        else:
            split, why = end - seconds, "asked"
    if end - (split - baseline) > longest:
        if why == "asked":
            note = messages.WINDOW_SINCE_CAPPED.format(
                asked=span(end - split), longest=span(longest)
            )
        else:
            note = messages.WINDOW_RECENT.format(age=span(now - onset), longest=span(longest))
        split = end - longest + baseline
    return Window(split - baseline, split, end, note, why)


def earliest_split(window: Window, settings: InvestigationSettings) -> float:
    """How far back an onset may move the split: ``max_lookback_minutes``, and never so far
    that the window (baseline included) is longer than ``max_window_minutes``. The split itself
    when the window was asked for."""
    if window.why != "alert":
        return window.split
    longest = 60.0 * settings.max_window_minutes
    lookback = 60.0 * settings.max_lookback_minutes
    floor = window.end - longest + 60.0 * settings.baseline_minutes
    return min(window.split, max(window.split - lookback, floor))


def probe(window: Window, at: float) -> Window:
    """``window`` with its split moved back to ``at`` (the baseline keeps its length)."""
    baseline = window.split - window.baseline_start
    return replace(window, baseline_start=at - baseline, split=at, why="onset")


def onset(
    window: Window, earliest: float, probed: Sequence[Finding], series: Sequence[Series]
) -> tuple[float, Finding] | None:
    """When the trouble began, and the symptom that says so: among the findings of the detectors
    judging from the ``earliest`` split, those abnormal before the alert's window began and
    still abnormal in it; for each, its first abnormal point, unless that lies before the change
    to the level its series holds now (``detectors.onset.level_change`` over the samples from
    ``earliest`` on: an odd point long before a surge is not its start). The earliest such start
    before the alert's split, or None (every symptom began inside the alert's window, so its
    onset is already in it)."""
    by_key = {s.key: s for s in series}
    found = []
    for f in probed:
        s = by_key.get(f.key)
        if s is None or not f.start < window.split <= f.end:
            continue
        change = level_change(s, earliest)
        # the detectors' first abnormal point is exact for a clean start
        began = f.start if change is None else max(f.start, change)
        if began < window.split:
            found.append((began, f))
    return min(found, key=lambda pair: pair[0], default=None)


def span(seconds: float) -> str:
    """A duration as a person says it: 40 min, 5.5 h, 20,439 days."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{max(seconds, 0.0) / 60:.0f} min"
