"""Block Kit limits: check a message before it is sent, and fit oversized content.

Slack rejects a whole message (``invalid_blocks``) when one text is too long, so every message
passes through :func:`fit` first: long texts are cut with a pointer to the attached file, extra
blocks are dropped (never the proposal blocks, whose buttons are the point of the message), and
the caller attaches the full text as a "more" file when anything was cut.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot import messages

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELD_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_FALLBACK_TEXT = 4000

# Blocks whose id starts with one of these are never dropped to make room.
KEEP_PREFIXES = ("proposal:", "actions:")


class BlockKitLimitError(ValueError):
    """A message still breaks a limit after fitting: a bug in the renderer, not in the content."""


@dataclass(frozen=True)
class Fitted:
    blocks: list[Block]
    text: str
    cut: bool


def _texts(blocks: list[Block]) -> Iterator[tuple[str, dict[str, Any], int]]:
    """(where, text object, limit) for every text object in the blocks."""
    for i, block in enumerate(blocks):
        kind = block.get("type", "?")
        where = f"block {i + 1} ({kind})"
        if "text" in block:
            limit = MAX_HEADER_TEXT if kind == "header" else MAX_TEXT
            yield f"{where} text", block["text"], limit
        for j, field in enumerate(block.get("fields", [])):
            yield f"{where} field {j + 1}", field, MAX_FIELD_TEXT
        for j, element in enumerate(block.get("elements", [])):
            if element.get("type") in ("mrkdwn", "plain_text"):
                yield f"{where} element {j + 1}", element, MAX_TEXT
            if element.get("type") == "button":
                yield f"{where} button {j + 1} text", element["text"], MAX_BUTTON_TEXT
                confirm = element.get("confirm")
                if confirm:
                    yield (
                        f"{where} button {j + 1} confirm title",
                        confirm["title"],
                        (MAX_CONFIRM_TITLE),
                    )
                    yield (
                        f"{where} button {j + 1} confirm text",
                        confirm["text"],
                        (MAX_CONFIRM_TEXT),
                    )
                    for key in ("confirm", "deny"):
                        yield (
                            f"{where} button {j + 1} confirm {key}",
                            confirm[key],
                            (MAX_CONFIRM_BUTTON),
                        )


def violations(blocks: list[Block], text: str = "") -> list[str]:
    """Every Block Kit limit the message breaks, in words; empty when it may be sent."""
    found = []
    if len(blocks) > MAX_BLOCKS:
        found.append(f"{len(blocks)} blocks (limit {MAX_BLOCKS})")
    if len(text) > MAX_FALLBACK_TEXT:
        found.append(f"fallback text is {len(text)} characters (limit {MAX_FALLBACK_TEXT})")
    for where, obj, limit in _texts(blocks):
        length = len(obj.get("text", ""))
        if length > limit:
            found.append(f"{where} is {length} characters (limit {limit})")
    for i, block in enumerate(blocks):
        for j, element in enumerate(block.get("elements", [])):
            value = element.get("value", "")
            if len(value) > MAX_VALUE:
                found.append(
                    f"block {i + 1} element {j + 1} value is {len(value)} characters "
                    f"(limit {MAX_VALUE})"
                )
    return found


def _whole(head: str) -> str:
    """``head`` without a markup token or an entity the cut left open (a half ``<!date...``
    or ``&am`` would show as garbage, and a half token is not Medic's markup any more)."""
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    amp = head.rfind("&")
    if amp > head.rfind(";") and len(head) - amp <= len("&amp;"):
        head = head[:amp]
    return head


def _shorten(value: str, limit: int, suffix: str) -> str:
    if len(value) <= limit:
        return value
    if len(suffix) >= limit:
        return _whole(value[: limit - 1]) + "…"
    return _whole(value[: limit - len(suffix)]).rstrip() + suffix


def fit(blocks: list[Block], text: str) -> Fitted:
    """The message within every limit; ``cut`` says whether any content had to go."""
    fitted = copy.deepcopy(blocks)
    cut = False
    if len(fitted) > MAX_BLOCKS:
        keep = [b for b in fitted if str(b.get("block_id", "")).startswith(KEEP_PREFIXES)]
        room = MAX_BLOCKS - 1 - len(keep)
        others = [b for b in fitted if not str(b.get("block_id", "")).startswith(KEEP_PREFIXES)]
        dropped = {id(b) for b in others[max(0, room) :]}
        fitted = [b for b in fitted if id(b) not in dropped]
        fitted.insert(
            len(fitted) - len(keep),
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": messages.SLACK_MORE_IN_FILE}],
            },
        )
        cut = True
    for _where, obj, limit in _texts(fitted):
        value = obj.get("text", "")
        if len(value) > limit:
            short_limit = limit < 2 * len(messages.SLACK_MORE_IN_FILE)
            obj["text"] = _shorten(
                value, limit, "…" if short_limit else messages.SLACK_MORE_IN_FILE
            )
            cut = cut or not short_limit
    fallback = _shorten(text, MAX_FALLBACK_TEXT, messages.SLACK_MORE_IN_FILE)
    cut = cut or fallback != text
    problems = violations(fitted, fallback)
    if problems:
        raise BlockKitLimitError("; ".join(problems))
    return Fitted(fitted, fallback, cut)


def as_markdown(blocks: list[Block]) -> str:
    """All the readable text of a message (no buttons), for the "more" file attached when the
    message was cut."""
    parts = [
        obj.get("text", "")
        for where, obj, _limit in _texts(blocks)
        if " button " not in where and obj.get("text")
    ]
    return "\n\n".join(parts) + "\n"
