"""Durations as people type them ('30m', '2h', '1h30m', '1d'): for `/medic silence`,
`/medic investigate ... since`, `medic investigate --since` and the ``medic_since`` annotation."""

from __future__ import annotations

import re

# 15 digits: the longest duration a person can type here (9 digits of weeks), written back in
# seconds as a manual investigation's ``medic_since`` does, still parses; the callers bound it
_DURATION = re.compile(r"(\d{1,15})([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_TEXT = 32  # characters: no real duration is longer, and the regex stays cheap
MIN_WINDOW = 60  # seconds: a suspect window shorter than a minute holds a few samples at most
WINDOW_PROBLEM = "is not a duration of a minute or more (e.g. 30m, 2h)"


def parse_duration(text: str) -> int | None:
    """'90m', '2h', '1h30m', '1d' -> seconds; None when it is not a duration."""
    text = text.strip().lower()
    if not text or len(text) > MAX_TEXT or _DURATION.sub("", text):
        return None
    return sum(int(n) * _UNIT[u] for n, u in _DURATION.findall(text))


def parse_window(text: str) -> int | None:
    """The length of a suspect window someone asked for, in seconds; None when ``text`` is not
    a duration of a minute or more (``WINDOW_PROBLEM`` says so)."""
    seconds = parse_duration(text)
    return seconds if seconds is not None and seconds >= MIN_WINDOW else None
