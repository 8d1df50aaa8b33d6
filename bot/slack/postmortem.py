"""A postmortem draft in Markdown from an incident's timeline: alert, findings, hypotheses,
decisions, actions, verification. A starting point for people, who add what Medic cannot know."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.incidents import Incident
from bot.slack.thread_store import TimelineEntry
from tools.proposals import Proposal, ProposalStatus

SECTIONS = (
    ("origin", "Where it started"),
    ("finding", "What was abnormal"),
    ("hypothesis", "Likely causes (Medic's ranking)"),
    ("similar", "Similar past incidents"),
    ("proposal", "Proposed remediation"),
    ("decision", "Decisions"),
    ("action", "Actions taken"),
    ("verification", "Verification"),
)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def postmortem_draft(
    incident: Incident, timeline: Sequence[TimelineEntry], proposals: Sequence[Proposal]
) -> str:
    executed = [p for p in proposals if p.status is ProposalStatus.SUCCEEDED]
    resolved = f"resolved {_when(incident.resolved_at)}" if incident.resolved_at else "still open"
    lines = [
        f"# Postmortem draft: {incident.id} - {incident.summary}",
        "",
        "_Drafted by Medic from the incident's timeline. Edit before sharing._",
        "",
        "## Summary",
        "",
        f"- **Service:** {incident.service} (namespace {incident.namespace})",
        f"- **Alert:** {incident.alertname}, started {_when(incident.starts_at)}; {resolved}",
        f"- **Remediation:** {'; '.join(p.outcome for p in executed) or 'none executed'}",
        "",
        "## Timeline",
        "",
        "| time (UTC) | event |",
        "|---|---|",
    ]
    for entry in sorted(timeline, key=lambda e: e.at):
        text = entry.text.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {_when(entry.at)[11:19]} | {entry.kind}: {text} |")
    for kind, title in SECTIONS:
        entries = [e for e in timeline if e.kind == kind]
        lines += ["", f"## {title}", ""]
        lines += [f"- {e.text}" for e in entries] or ["- none recorded"]
    corrections = [
        f"- corrected in the thread by {e.text}" for e in timeline if e.kind == "correction"
    ]
    lines += ["", "## Root cause", ""]
    lines += corrections or ["_Confirm or correct Medic's top hypothesis._"]
    lines += [
        "",
        "## Follow-ups",
        "",
        "- [ ] _What would have prevented this, or found it sooner?_",
        "",
    ]
    return "\n".join(lines)
