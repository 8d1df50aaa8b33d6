"""Masking rules applied before template mining: variable parts of a log message become typed
placeholders, so "payload 6210 bytes" and "payload 5546 bytes" share one template.

The rules are generic (not per system) and ordered: specific shapes (URLs, UUIDs, IPs) before the
general number rule that would otherwise eat their digits.
"""

from __future__ import annotations

import re

from drain3.masking import AbstractMaskingInstruction, MaskingInstruction

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

# A logfmt ``key=value`` token kept whole (``=`` not a delimiter) names its field in the key and
# holds a variable in the value: "host=db-7" and "host=db-9" are one token shape, ``host=<KV>``.
# Applied after the rules above (a timestamp value stays ``ts=<TIMESTAMP>``). "variable" masks a
# value with a digit or in quotes (a value with spaces), "all" every value; a bare word stays for
# the miner's slot rules to judge. The key must start a token, so "a==b" or a URL query is left.
_KEY = r"(?<![^\s\"'(\[{,;])[A-Za-z_][\w.-]{0,63}="
KEY_VALUE_RULES: dict[str, str] = {
    "variable": r"(" + _KEY + r")(?:\"[^\"]{0,1000}\"|[^\s\"]*\d[^\s\"]*)",
    "all": r"(" + _KEY + r")(?:\"[^\"]{0,1000}\"|[^\s\"]+)",
}


# "evidence" keeps the token whole and masks no value by rule: the miner's slot rules judge a
# field's values on the data, as they judge any other variable.
KEY_VALUE_MODES = ("evidence", *KEY_VALUE_RULES)


def masking_instructions(
    names: tuple[str, ...] = MASK_NAMES, key_values: str | None = None
) -> list[AbstractMaskingInstruction]:
    """The rules whose placeholder is in ``names``, in their order, then the ``key_values`` rule
    (a ``KEY_VALUE_RULES`` name) if any; "evidence" adds none."""
    if key_values is not None and key_values not in KEY_VALUE_MODES:
        raise ValueError(f"unknown key_values {key_values!r} (known: {', '.join(KEY_VALUE_MODES)})")
    out: list[AbstractMaskingInstruction] = [
        MaskingInstruction(pattern, name) for pattern, name in MASKING_RULES if name in names
    ]
    rule = KEY_VALUE_RULES.get(key_values or "")
    if rule is not None:
        out.append(KeyValueMask(rule))
    return out


class KeyValueMask(AbstractMaskingInstruction):  # type: ignore[misc]
    """Masks the value of ``key=value`` and keeps the key (Drain3's instruction replaces the
    whole match, and a look-behind for a key of any length is not a Python regex)."""

    def __init__(self, pattern: str) -> None:
        super().__init__("KV")
        self.regex = re.compile(pattern)

    def mask(self, content: str, mask_prefix: str, mask_suffix: str) -> str:
        placeholder = mask_prefix + self.mask_with + mask_suffix
        return self.regex.sub(lambda m: m.group(1) + placeholder, content)
