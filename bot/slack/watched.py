"""Alert messages in watched channels: Alertmanager's Slack receiver format
(``[FIRING:2] HighLatency recommender (shop page)`` in an attachment's title) or a configurable
regex with named groups ``alertname``, ``service``, ``namespace`` and ``status``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tools import SERVICE_LABELS

_HEAD = re.compile(r"\[(FIRING|RESOLVED)(?::\d+)?\]\s*(?P<rest>[^\n]+)", re.IGNORECASE)
_PAIR = re.compile(r"\b([a-z_][a-z0-9_]*)\s*[:=]\s*`?([A-Za-z0-9_.:/-]+)`?")
_TOKEN = re.compile(r"[A-Za-z0-9_.:-]+")

# Finds (namespace, service) among words of the alert, or None.
ServiceResolver = Callable[[list[str]], tuple[str, str] | None]


@dataclass(frozen=True)
class WatchedAlert:
    status: str
    title: str
    labels: dict[str, str]
    summary: str

    def payload(self, starts_at: str) -> dict[str, Any]:
        return {
            "status": self.status,
            "labels": self.labels,
            "annotations": {"summary": self.summary},
            "startsAt": starts_at,
        }


def posted_at(ts: str, now: float) -> str:
    """The alert's start: when its message was posted (Slack's ``ts``, Unix seconds), or ``now``
    when that is no usable time. One that is usable but absurd is refused by the alert's own
    checks (``bot.alerts``)."""
    try:
        return datetime.fromtimestamp(float(ts) or now, UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(now, UTC).isoformat()


def message_texts(event: dict[str, Any]) -> Iterator[str]:
    """The text of a message and of its attachments (where Alertmanager puts everything)."""
    if event.get("text"):
        yield str(event["text"])
    for attachment in event.get("attachments") or []:
        for key in ("pretext", "title", "fallback", "text"):
            if attachment.get(key):
                yield str(attachment[key])
        for field in attachment.get("fields") or []:
            yield f"{field.get('title', '')}: {field.get('value', '')}"


def alert_from_message(
    event: dict[str, Any], pattern: re.Pattern[str] | None, resolve: ServiceResolver
) -> WatchedAlert | None:
    """The alert a channel message announces, or None when it does not look like one."""
    texts = list(message_texts(event))
    whole = "\n".join(texts)
    if pattern is not None and (match := pattern.search(whole)):
        return _from_pattern(match, resolve)
    head = next((m for t in texts if (m := _HEAD.search(t))), None)
    if head is None:
        return None
    rest = head.group("rest").strip()
    labels = {k.lower(): v for k, v in _PAIR.findall(whole)}
    tokens = _TOKEN.findall(rest.replace("(", " ").replace(")", " "))
    service = next((labels[k] for k in SERVICE_LABELS if labels.get(k)), None)
    namespace = labels.get("namespace")
    if service is None:
        found = resolve(tokens)
        if found is None:
            return None
        namespace, service = namespace or found[0], found[1]
    alertname = labels.get("alertname") or (tokens[0] if tokens else "SlackAlert")
    out = {"alertname": alertname, "service": service}
    if namespace:
        out["namespace"] = namespace
    return WatchedAlert(head.group(1).lower(), rest, out, f"{alertname} on {service}: {rest}")


def _from_pattern(match: re.Match[str], resolve: ServiceResolver) -> WatchedAlert | None:
    found = {k: v for k, v in match.groupdict().items() if v}
    service, namespace = found.get("service"), found.get("namespace")
    if service is None:
        located = resolve(_TOKEN.findall(match.group(0)))
        if located is None:
            return None
        namespace, service = namespace or located[0], located[1]
    alertname = found.get("alertname", "SlackAlert")
    labels = {"alertname": alertname, "service": service}
    if namespace:
        labels["namespace"] = namespace
    status = "resolved" if found.get("status", "").lower() == "resolved" else "firing"
    title = f"{alertname} {namespace or ''}/{service}"
    return WatchedAlert(status, title, labels, match.group(0).strip()[:300])
