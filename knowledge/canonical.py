"""One identity per postmortem across corpora and mirrors: the same write-up reached through an
archived copy (``web.archive.org/web/<timestamp>/...``), another scheme or host case, a trailing
slash or tracking parameters is one document, so its evidence counts once and it fills one slot.
A postmortem without a URL is known by a hash of its normalised text."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_ARCHIVE = re.compile(r"^(?:https?://)?(?:www\.)?web\.archive\.org/web/[^/]+/", re.IGNORECASE)
_FIRST = re.compile(r"\s|\)[,;\s]")
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ref_src")
MAX_URL = 2048


def canonical_url(url: str) -> str:
    """``https://host/path?query`` with the archive prefix, default port, ``www.``, fragment,
    tracking parameters and trailing slash removed; scheme and host lower-cased (both name the
    same page). Text that is not an http(s) URL comes back stripped, unchanged."""
    text = _FIRST.split(url.strip()[:MAX_URL], maxsplit=1)[0]  # "u1), [see also](u2" -> u1
    while (found := _ARCHIVE.match(text)) is not None:
        text = text[found.end() :]
    if "://" not in text and re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", text, re.IGNORECASE):
        text = "https://" + text  # the archive prefix may drop the scheme of the original
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return text
    host = parts.hostname.lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING)
    ]
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


def content_hash(text: str) -> str:
    """A hash of the text with case and white space normalised."""
    flat = " ".join(text.lower().split())
    return hashlib.sha256(flat.encode()).hexdigest()[:16]


def document_id(url: str, text: str) -> str:
    """The canonical id: the canonical URL when there is one, else ``sha:<content hash>``."""
    canonical = canonical_url(url) if url.strip() else ""
    return canonical if canonical.startswith("https://") else f"sha:{content_hash(text)}"
