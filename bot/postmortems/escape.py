r"""Text from alerts, logs, labels, people and models made inert in a Markdown document.

A postmortem draft is read rendered (GitHub, a wiki, Slack's file preview) and raw (an editor),
so a field must neither become markup when rendered nor be hard to read raw. Each field is one
line (newlines would start a heading, a list or a table row), cut to a bound, with the characters
that open HTML (``<``: tags, comments), entities (``&``) and inline Markdown (emphasis, code, links,
images, tables, strike-through) escaped with a backslash - which a renderer drops and a person
reading the raw file reads past (``\<SIZE>`` rather than ``&lt;SIZE&gt;``) -, and
URLs defanged (``https[:]//``, ``www[.]``) so neither a renderer's autolinks nor a link from a
label can take a reader elsewhere. Fields never start a line, so block markers (``#``, ``-``,
``1.``, ``>``) need no escaping."""

from __future__ import annotations

import html
import re

FIELD_CHARS = 400  # most characters of one field in the draft
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACE = re.compile(r"\s+")
_SCHEME = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{1,20}):(?=//)")
_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)
_INLINE = re.compile(r"([\\`*_\[\]|~<&])")


def md_text(text: str, limit: int = FIELD_CHARS) -> str:
    """``text`` as one inert line of Markdown, at most ``limit`` characters of it kept."""
    flat = _SPACE.sub(" ", _CONTROL.sub("", str(text))).strip()
    if len(flat) > limit:
        flat = flat[: max(0, limit - 1)].rstrip() + "…"
    flat = _WWW.sub(r"\1[.]", _SCHEME.sub(r"\1[:]", flat))
    return _INLINE.sub(r"\\\1", flat)


def md_plain(markdown: str) -> str:
    """What a reader sees of text :func:`md_text` wrote: escapes (and any entities) undone (the
    LLM guard compares the model's words with this)."""
    return html.unescape(re.sub(r"\\([\\`*_\[\]|~<&!#.()+-])", r"\1", markdown))
