"""JSON from outside (webhooks, Slack's requests) with bounded nesting, and only text in it.

Python's parser gives up on deep nesting with a ``RecursionError`` (an internal error, not a
malformed input, to a web framework), and a document just below that depth still costs every
recursive walk after it (copies, validation). Real payloads are shallow: a Slack interaction
with rich-text blocks nests about a dozen levels, an Alertmanager notification four. JSON can also
carry a lone surrogate (``"\\ud800"``), which no database, Slack or JSON encoder downstream takes.
"""

from __future__ import annotations

import json
from typing import Any

from bot.errors import InputError

MAX_DEPTH = 64
MAX_INT_DIGITS = 4300  # Python's own limit for int(); past it int() raises a bare ValueError


def depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar is 0, ``[]`` is 1); iterative, so any depth is
    measured without recursion."""
    return _walk(value)[0]


def _walk(value: Any) -> tuple[int, bool]:
    """(how deeply ``value`` nests, whether every string in it - keys too - is valid Unicode)."""
    deepest, valid, stack = 0, True, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((key, level + 1) for key in item)
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            if isinstance(item, str) and not item.isascii():
                valid = valid and _encodable(item)
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest, valid


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON): not text
        return False
    return True


def check_depth(value: Any, what: str) -> None:
    """InputError unless ``value`` nests at most MAX_DEPTH deep and all its strings are text."""
    deepest, valid = _walk(value)
    if deepest > MAX_DEPTH:
        raise InputError(f"{what}: JSON nested more than {MAX_DEPTH} levels deep")
    if not valid:
        raise InputError(f"{what}: a string holds an unpaired surrogate (not Unicode text)")


def load_json(text: str | bytes, what: str) -> Any:
    """``text`` parsed; InputError naming ``what`` when it is not JSON, nests too deeply or
    holds a string that is not Unicode text."""

    def bounded_int(digits: str) -> int:
        if len(digits) > MAX_INT_DIGITS:
            raise InputError(f"{what}: a number of {MAX_INT_DIGITS:,}+ digits")
        return int(digits)

    try:
        value = json.loads(text, parse_int=bounded_int)
    except RecursionError as exc:
        raise InputError(f"{what}: JSON nested more than {MAX_DEPTH} levels deep") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputError(f"{what}: not JSON ({exc})") from exc
    check_depth(value, what)
    return value
