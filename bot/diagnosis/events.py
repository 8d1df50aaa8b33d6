"""Kubernetes Events as evidence: what the cluster itself recorded about the service's pods in
the window. An OOMKilled pod supports the memory causes, a container in BackOff a crash loop, an
eviction for disk a full disk; every Event (those without a cause too: FailedScheduling,
Unhealthy, FailedMount) is listed under "what changed".

Event text is cluster text: it was bounded when read (tools.kube) and is only ever shown as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot import messages
from bot.diagnosis.hypotheses import Evidence
from tools.backends import ClusterBackend, ClusterEvent
from tools.errors import ToolError

EVENT_WEIGHT = 0.3  # as a resource near its limit (RESOURCE_WEIGHT): the cluster saw it happen
MORE = 0.05  # per further pod or bucket with the same event, up to MOST
MOST = 0.45
MAX_EVENTS = 50  # read per service
CONSEQUENCES = frozenset({"BackOff", "CrashLoopBackOff"})  # restarts: after an OOM kill, its own

# reason -> the causes it supports (a message naming what ran out decides for Evicted)
CAUSES_OF: dict[str, tuple[str, ...]] = {
    "OOMKilled": ("memory-leak", "memory-limit"),
    "OOMKilling": ("memory-leak", "memory-limit"),
    "BackOff": ("crash-loop",),
    "CrashLoopBackOff": ("crash-loop",),
}


def causes_of(event: ClusterEvent) -> tuple[str, ...]:
    """The causes ``event`` is evidence for; none for an Event that says what happened but not
    why (FailedScheduling, Unhealthy, FailedMount, Killing...)."""
    if event.reason == "Evicted":
        text = event.message.lower()
        if "ephemeral-storage" in text or "disk" in text:
            return ("disk-full",)
        if "memory" in text:
            return ("memory-leak", "memory-limit")
        return ()
    return CAUSES_OF.get(event.reason, ())


def describe(event: ClusterEvent) -> str:
    """One line: '3x OOMKilled on Pod checkout-6f7c9d8b5-0a1b2 at 09:42 UTC: <message>'."""
    when = datetime.fromtimestamp(event.at, UTC).strftime("%H:%M")
    times = f"{event.count}x " if event.count > 1 else ""
    return f"{times}{event.reason} on {event.kind} {event.name} at {when} UTC: {event.message}"


def event_evidence(events: Sequence[ClusterEvent]) -> list[tuple[str, Evidence, str]]:
    """(cause, evidence, summary) per cause and reason: the most recent Event of that reason
    speaks, weighed by how many there were. A pod's BackOff after it was OOMKilled is not taken
    for a crash of its own."""
    killed = {e.name for e in events if "memory-leak" in causes_of(e)}
    grouped: dict[tuple[str, str], list[ClusterEvent]] = {}
    for event in events:
        if event.name in killed and event.reason in CONSEQUENCES:
            continue  # a pod restarting after it was OOMKilled: the kill's consequence
        for cause in causes_of(event):
            grouped.setdefault((cause, event.reason), []).append(event)
    items = []
    for (cause, _reason), seen in grouped.items():
        last = max(seen, key=lambda e: e.at)
        weight = min(EVENT_WEIGHT + MORE * (len(seen) - 1), MOST)
        total = sum(e.count for e in seen)
        text = messages.EVENT_EVIDENCE.format(count=total, event=describe(last))
        items.append((cause, Evidence("event", text, round(weight, 3)), text))
    return items


def read_events(
    cluster: ClusterBackend, namespace: str, service: str, since: float, until: float
) -> tuple[list[ClusterEvent], str | None]:
    """The service's Events in ``[since, until]`` (the investigation's window: one diagnosed
    again later must not take what happened afterwards for evidence), or none and a note saying
    why they could not be read (the investigation goes on without them)."""
    try:
        found = cluster.recent_events(namespace, service, since, MAX_EVENTS)
    except ToolError as exc:
        return [], messages.EVENTS_UNAVAILABLE.format(why=exc)
    return [e for e in found if e.at <= until], None
