"""The thread's root message: the alert group as it stands - firing or resolved, how many alerts,
the service, and links back to the source. Stored as a :class:`RootView`, so a later
notification for the same group (a resolve, a refire, a replica's copy) can update it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot import messages
from bot.alerts import AlertGroup, AlertSource
from bot.slack.blocks.elements import Message, context, mrkdwn, plain, section
from bot.slack.limits import Block
from bot.slack.mrkdwn import Mrkdwn, joined, link, markup


class RootView(BaseModel):
    """What the thread's root message shows; stored, so later notifications can update it."""

    status: str
    alertname: str
    summary: str
    description: str = ""
    service: str = ""
    namespace: str = ""
    severity: str = ""
    firing: int = 0
    resolved: int = 0
    incidents: list[str] = Field(default_factory=list)
    group_labels: dict[str, str] = Field(default_factory=dict)
    source_url: str = ""
    source: AlertSource | None = None  # a receiver's source: its ids and links (not Alertmanager)
    changed_at: datetime | None = None  # the newest alert change shown (None: stored before it)

    def outdated_by(self, view: RootView) -> bool:
        """Whether ``view`` (a later notification) replaces this one. A resolved copy older than
        what this view shows is a late duplicate - a replica or an Alertmanager peer that lagged
        across a resolve and a refire - and must not turn a firing thread back to RESOLVED. A
        firing copy always applies: an alert can fire again with its old start time (Prometheus
        restores it after an outage), and a late one is followed by its peer's resolved copy."""
        if view.status == "firing" or self.changed_at is None or view.changed_at is None:
            return True
        return view.changed_at >= self.changed_at


def root_view(group: AlertGroup, incidents: list[str], default_namespace: str) -> RootView:
    first = next((a for a in group.alerts if a.status == "firing"), group.alerts[0])
    annotations = {**first.annotations, **group.common_annotations}
    labels = {**first.labels, **group.common_labels}
    firing = sum(a.status == "firing" for a in group.alerts)
    return RootView(
        status="firing" if firing else "resolved",
        alertname=labels.get("alertname", first.name),
        summary=annotations.get("summary") or f"{first.name} on {first.service or '?'}",
        description=annotations.get("description", ""),
        service=first.service or "",
        namespace=labels.get("namespace", default_namespace),
        severity=labels.get("severity", ""),
        firing=firing,
        resolved=len(group.alerts) - firing,
        incidents=incidents,
        group_labels=group.group_labels,
        source_url=group.external_url,
        source=group.source,
        changed_at=group.changed_at,
    )


SOURCE_NAMES = {"grafana": "Grafana", "datadog": "Datadog", "pagerduty": "PagerDuty",
                "opsgenie": "Opsgenie", "generic": "JSON webhook"}  # fmt: skip


def source_notes(source: AlertSource) -> list[Mrkdwn]:
    """Where the alert came from, with that tool's ids and links (escaped; http(s) links only)."""
    name = SOURCE_NAMES.get(source.kind, source.kind)
    ids = joined(", ", (markup("{} {}", k, v) for k, v in source.ids.items()))
    notes = [markup(messages.SLACK_SOURCE_FROM, source=name, ids=ids) if source.ids
             else markup("from {}", name)]  # fmt: skip
    notes.extend(link(item.url, item.label) for item in source.links)
    return notes


def root_message(view: RootView) -> Message:
    firing = view.status == "firing"
    icon, word = (":rotating_light:", "FIRING") if firing else (":white_check_mark:", "RESOLVED")
    count = f":{view.firing}" if firing else ""
    title = f"[{word}{count}] {view.alertname}"
    fields = [
        mrkdwn(markup("*Service*\n{}", view.service or "-")),
        mrkdwn(markup("*Namespace*\n{}", view.namespace or "-")),
        mrkdwn(markup("*Severity*\n{}", view.severity or "-")),
        mrkdwn(markup("*Alerts*\n{} firing, {} resolved", view.firing, view.resolved)),
    ]
    body = markup("*{}*", view.summary)
    if view.description:
        body = markup("{}\n{}", body, view.description)
    notes = []
    if view.group_labels:
        labels = (markup("{}={}", k, v) for k, v in sorted(view.group_labels.items()))
        notes.append(markup("group: {}", joined(", ", labels)))
    if view.incidents:
        notes.append(markup("incidents: {}", ", ".join(view.incidents)))
    if view.source is not None:
        notes.extend(source_notes(view.source))
    elif view.source_url:
        notes.append(link(view.source_url, "Alertmanager"))
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{icon} {title}")},
        section(body),
        {"type": "section", "fields": fields},
    ]
    if notes:
        blocks.append(context(joined(" · ", notes)))
    return Message(markup("{} - {}", title, view.summary), blocks)
