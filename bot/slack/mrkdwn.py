"""Slack's markup, built only from escaped parts: the one escaping path for everything Medic
shows in Slack.

Slack reads ``<...>`` in message text, mrkdwn text objects, context elements, fields and the
fallback ``text`` as control sequences: ``<!channel>`` notifies a whole channel, ``<@U...>``
mentions a person, ``<https://...|label>`` is a link whose label hides its address. Text from an
alert, a log line, a label, a person or a model must never become one. A :class:`Mrkdwn` value
is markup Medic wrote itself; the block builders (``bot.slack.blocks``) accept nothing else, so
a raw string cannot reach Slack without passing :func:`markup` (which escapes every part it is
given that is not already :class:`Mrkdwn`) or :func:`escape`. Links come only from :func:`link`,
which takes http(s) URLs and nothing else. ``plain_text`` objects are not parsed by Slack (no
mentions, no links); :func:`plain` keeps them that way whatever Slack does with entities there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import LiteralString
from urllib.parse import quote, urlsplit

LINK_SCHEMES = ("http", "https")
MAX_URL = 2000
# Characters a URL keeps as they are; everything else (spaces, <, >, |, quotes, non-ASCII) is
# percent-encoded, so the URL cannot end the link early or carry a label of its own.
URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+")  # a name, IPv4, IPv6
# Bidirectional embeddings, overrides and isolates: one in an alert's label reverses how the rest
# of the line is drawn ("Trojan Source"), so a reader could see another namespace or replica
# count than the one written. Shown as their escape (``\u202e``), as the CLI shows them.
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _visible(text: str) -> str:
    return BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class Mrkdwn(str):
    """Text that is safe to send as Slack mrkdwn: Medic's own markup around escaped data.

    A subclass of ``str`` so it goes wherever text goes; building one from data goes through
    :func:`markup`, :func:`escape` or :func:`link`. Concatenating a Mrkdwn with a ``str`` gives a
    plain ``str`` again (the type checker then refuses it where Mrkdwn is required)."""

    __slots__ = ()


def escape(text: str) -> Mrkdwn:
    """``text`` shown as it is: Slack's three control characters as entities, bidirectional
    controls as their escapes (``BIDI``). Mrkdwn is
    returned unchanged (it is escaped already; escaping it again would show the entities)."""
    if isinstance(text, Mrkdwn):
        return text
    shown = _visible(text)
    return Mrkdwn(shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _part(value: object) -> object:
    if isinstance(value, Mrkdwn):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape(str(value))
    return value  # a number: no control characters, and its format spec still applies


def markup(template: LiteralString, *args: object, **kwargs: object) -> Mrkdwn:
    """``template`` (Medic's own markup, a literal) with every argument escaped, except those
    that are Mrkdwn already; numbers keep their format specs (``{score:.2f}``)."""
    return Mrkdwn(
        template.format(*(_part(a) for a in args), **{k: _part(v) for k, v in kwargs.items()})
    )


def joined(separator: LiteralString, parts: Iterable[Mrkdwn]) -> Mrkdwn:
    """Mrkdwn ``parts`` joined by a literal ``separator``."""
    return Mrkdwn(separator.join(parts))


def safe_url(url: str) -> str | None:
    """``url`` ready to sit inside ``<...|...>``, or None unless it is an absolute http(s) URL
    (no ``javascript:``, no ``<!channel>``, no ``mailto:``)."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not HOST.fullmatch(parts.hostname or ""):
        return None
    return quote(url, safe=URL_SAFE).replace("&", "&amp;")


def link(url: str, label: str) -> Mrkdwn:
    """A link with an escaped ``label``; just the label when ``url`` is not http(s)."""
    target = safe_url(url)
    shown = escape(label)
    if target is None:
        return Mrkdwn(shown)
    return Mrkdwn(f"<{target}|{shown}>")


def plain(text: str) -> str:
    """Text for a ``plain_text`` object. Slack parses no mentions or links there and documents
    no entity decoding, so escaping could show ``&lt;`` to the reader; angle brackets become
    their look-alikes instead, and the text is never markup whatever Slack does with it."""
    return _visible(text).replace("<", "\u2039").replace(">", "\u203a")
