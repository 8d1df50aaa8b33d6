"""Small pure helpers shared by the receivers: a field found by path, text bounded in length,
a vendor's time made an alert's time, a link kept only when it is http(s).

Everything a vendor sends is hostile input: text is cut to a length, links are checked here (and
again where they are shown), and times go through the alert model's own checks
(:mod:`bot.alerts`), which refuse an absurd one naming the field."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from bot.errors import InputError
from bot.slack.mrkdwn import safe_url

MAX_STEPS = 8
MAX_TEXT = 500
MAX_LABEL = 200
# A label value Medic can match on a Kubernetes name (service, namespace): kept as sent when it is
# one; anything else stays text and fails the service lookup with a clear line.
EPOCH_MS_FROM = 10**11  # past this a number of seconds would be after year 5138: milliseconds
EPOCH_NS_FROM = 10**17  # and past this, nanoseconds (Opsgenie's updatedAt)


def lookup(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document`` - a JSON Pointer (``/a/b/0``, RFC 6901) or dotted
    (``a.b.0``) - or None when any step is missing. At most MAX_STEPS steps."""
    if not path:
        return None
    steps = path[1:].split("/") if path.startswith("/") else path.split(".")
    if len(steps) > MAX_STEPS:
        raise InputError(f"field path {path[:60]!r} has more than {MAX_STEPS} steps")
    value = document
    for raw in steps:
        step = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """A scalar as text, cut to ``limit`` characters; "" for None, objects and lists."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()[:limit]


def label(value: Any) -> str:
    """Text for a label value: one line, at most MAX_LABEL characters."""
    return re.sub(r"\s+", " ", text(value, MAX_LABEL))


def alert_time(value: Any, field: str) -> str:
    """A vendor's time as ISO 8601 with a zone: an ISO string as sent (the alert model checks it),
    or a Unix epoch in seconds, milliseconds or nanoseconds. InputError naming ``field``."""
    if isinstance(value, str) and value.strip() and not _number(value.strip()):
        return value.strip()[:64]
    number = _number(value.strip()) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise InputError(f"malformed alert: {field}: not a time ({text(value, 40)!r})")
    try:
        seconds = float(number)  # an integer of 400 digits is valid JSON: OverflowError
        if abs(seconds) >= EPOCH_NS_FROM:
            seconds /= 1e9
        elif abs(seconds) >= EPOCH_MS_FROM:
            seconds /= 1e3
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, OSError, ValueError) as exc:
        raise InputError(f"malformed alert: {field}: not a time ({text(value, 40)!r})") from exc


def _number(value: str) -> int | float | None:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def source_link(label_text: str, url: Any) -> dict[str, str] | None:
    """A link back to the vendor, or None unless ``url`` is an http(s) URL."""
    address = text(url, 2000)
    if not address or safe_url(address) is None:
        return None
    return {"label": label_text, "url": address}


def links(*pairs: tuple[str, Any]) -> list[dict[str, str]]:
    """The http(s) ones of (label, url) pairs."""
    return [link for label_text, url in pairs if (link := source_link(label_text, url))]


def require_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"malformed alert: {what} must be a JSON object")
    return value


def object_or_empty(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (an optional part sent wrong)."""
    return value if isinstance(value, dict) else {}


def list_or_empty(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
