"""Masking rules applied before template mining: variable parts of a log message become typed
placeholders, so "payload 6210 bytes" and "payload 5546 bytes" share one template.

The rules are generic (not per system) and ordered: specific shapes (URLs, UUIDs, IPs) before the
general number rule that would otherwise eat their digits.
"""

from __future__ import annotations

from drain3.masking import MaskingInstruction

_B = r"(?<![A-Za-z0-9_])"  # left boundary: not inside a word
_E = r"(?![A-Za-z0-9_])"  # right boundary

MASKING_RULES: tuple[tuple[str, str], ...] = (
    (r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+", "URL"),
    (r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "EMAIL"),  # starts a run: linear, not quadratic
    (
        _B + r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" + _E,
        "UUID",
    ),
    (
        _B + r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?" + _E,
        "TIMESTAMP",
    ),
    (
        _B + r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
        r"|Oct|Nov|Dec)[a-z]* +\d{1,2},? (?:\d{4} )?\d{1,2}:\d{2}(?::\d{2})?(?: \d{4})?" + _E,
        "TIMESTAMP",
    ),
    (_B + r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?" + _E, "TIME"),
    (_B + r"\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?" + _E, "IP"),
    (r"(?<![\w/])(?:/[\w.@%+-]+){2,}/?(?:\?[^\s\"'<>]*)?", "PATH"),
    (_B + r"0x[0-9a-fA-F]+" + _E, "HEX"),
    (_B + r"(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}" + _E, "HEX"),
    (_B + r"\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|sec|secs|min|mins|h)" + _E, "DURATION"),
    (_B + r"\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|bytes|B)" + _E, "SIZE"),
    # a number glued to a name by '#' is a source location (Class#123), not a value
    (r"(?<![A-Za-z0-9_.])(?<![A-Za-z0-9_]#)[-+]?\d+(?:\.\d+)?%?(?![A-Za-z0-9_])", "NUM"),
)


MASK_NAMES = tuple(dict.fromkeys(name for _, name in MASKING_RULES))


def masking_instructions(names: tuple[str, ...] = MASK_NAMES) -> list[MaskingInstruction]:
    """The rules whose placeholder is in ``names``, in their order."""
    return [MaskingInstruction(pattern, name) for pattern, name in MASKING_RULES if name in names]
