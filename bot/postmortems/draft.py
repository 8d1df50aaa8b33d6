"""The postmortem draft in Markdown, written from an incident's file (:mod:`bot.postmortems.record`)
alone: it states nothing the record does not hold, so a team edits it rather than checks it.
Pure; every field that came from an alert, a log, a label, a person or a model passes
:func:`bot.postmortems.escape.md_text` where it is written, and every list is bounded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.diagnosis.signals import Glossary
from bot.origin_views import origins_view
from bot.postmortems.escape import md_text
from bot.postmortems.record import IncidentFile
from bot.slack.blocks import exact_change
from tools.proposals import EXECUTED, Proposal, ProposalStatus

MAX_EVENTS = 60  # timeline rows; a long incident's middle is summarised in one row
MAX_ITEMS = 8  # entries per list (findings, evidence, similar incidents, advice)
MAX_LABELS = 12
ORDER = (
    "alert",
    "origin",
    "finding",
    "opened",
    "proposal",
    "decision",
    "action",
    "verification",
    "correction",
    "note",
    "resolved",
)


DRAFTED_AT = "_Drafted by Medic at "  # opens the one line of a draft that names its time


def same_draft(one: str, other: str) -> bool:
    """Whether two drafts say the same, the time each was drafted at aside (the same record
    drafted twice a second apart is one draft)."""

    def told(markdown: str) -> list[str]:
        return [line for line in markdown.splitlines() if not line.startswith(DRAFTED_AT)]

    return told(one) == told(other)


@dataclass(frozen=True)
class Event:
    """One row of the timeline: ``text`` is Markdown already (escaped where it holds data)."""

    at: float
    kind: str
    text: str


def when(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError, OSError):  # an absurd time from an alert: say so
        return "(time out of range) UTC"


def duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    parts = [(whole // 3600, "h"), (whole % 3600 // 60, "min"), (whole % 60, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n]
    return " ".join(shown[:2]) or "0 s"


def _who(user: str | None) -> str:
    return md_text(user or "someone", 80)


def _change(p: Proposal) -> str:
    return md_text(exact_change(p.action), 200)


def timeline(file: IncidentFile, catalog: Glossary) -> list[Event]:
    """What happened, in order of time: the alert, where it started and what went abnormal,
    what Medic proposed, who decided what, what ran, how it was verified, how it ended."""
    inc = file.incident
    events = [
        Event(
            inc.starts_at,
            "alert",
            f"Alert **{md_text(inc.alertname, 120)}** fired for {md_text(inc.service, 120)} "
            f"in {md_text(inc.namespace, 120)}: {md_text(inc.summary, 200)}",
        ),
        Event(inc.created_at, "opened", f"Medic opened {md_text(inc.id)} and investigated"),
    ]
    inv = file.investigation
    if inv is not None:
        view = origins_view(inv, catalog)
        if view is not None and view.origin.began is not None:
            events.append(
                Event(
                    view.origin.began,
                    "origin",
                    f"First deviation at the origin, {md_text(view.origin.service, 120)}",
                )
            )
        for f in inv.findings[:MAX_ITEMS]:
            events.append(Event(f.start, "finding", f"Abnormal: {md_text(catalog.describe(f))}"))
    for p in file.proposals:
        events += _proposal_events(p)
    for v in file.verifications:
        verdict = "recovered" if v.recovered else "not recovered"
        detail = "; ".join(v.checks[:MAX_ITEMS]) or v.note
        events.append(
            Event(v.at, "verification", f"Verification: **{verdict}** - {md_text(detail)}")
        )
    if file.correction is not None:
        c = file.correction
        events.append(
            Event(c.at, "correction", f"Cause corrected by {_who(c.by)}: {md_text(c.text)}")
        )
    for entry in file.thread:
        if entry.kind == "note":
            events.append(Event(entry.at, "note", f"Thread: {md_text(entry.text)}"))
    if inc.resolved_at is not None:
        events.append(Event(inc.resolved_at, "resolved", f"{md_text(inc.id)} resolved"))
    rank = {kind: i for i, kind in enumerate(ORDER)}
    events.sort(key=lambda e: (e.at, rank.get(e.kind, len(ORDER))))
    if len(events) > MAX_EVENTS:
        head, tail = events[: MAX_EVENTS // 2], events[-MAX_EVENTS // 2 :]
        gap = len(events) - len(head) - len(tail)
        events = [*head, Event(head[-1].at, "note", f"_{gap} more events_"), *tail]
    return events


def _proposal_events(p: Proposal) -> list[Event]:
    change = _change(p)
    if p.status is ProposalStatus.REFUSED:
        return [Event(p.created_at, "proposal", f"Proposed `{change}`: {md_text(p.refusal)}")]
    events = [Event(p.created_at, "proposal", f"Proposed `{change}` ({md_text(p.source, 80)})")]
    if p.decided_at is not None:
        verb = {
            ProposalStatus.REJECTED: "Rejected",
            ProposalStatus.EXPIRED: "Expired",
            ProposalStatus.WITHDRAWN: "Withdrawn",
        }.get(p.status, "Approved")
        by = "" if verb in ("Expired", "Withdrawn") else f" by {_who(p.decided_by)}"
        events.append(Event(p.decided_at, "decision", f"{verb}{by}: `{change}`"))
    if p.started_at is not None and p.status in EXECUTED:
        ended = p.finished_at if p.finished_at is not None else p.started_at
        outcome = md_text(p.outcome) if p.outcome else p.status.value
        events.append(Event(ended, "action", f"Ran `{change}`: {p.status.value} - {outcome}"))
    return events


def postmortem_markdown(file: IncidentFile, catalog: Glossary, now: float) -> str:
    """The draft: summary, impact, timeline, root cause and origin with their evidence, what
    fixed it, similar past incidents, action items, and what Medic cannot know."""
    inc = file.incident
    events = timeline(file, catalog)
    lines = [
        f"# Postmortem: {md_text(inc.id)} - {md_text(inc.summary, 200)}",
        "",
        f"{DRAFTED_AT}{when(now)} from the incident's record (the alert, the diagnosis, "
        "the proposals and decisions, what ran and its verification). Every statement below is "
        "in that record; edit and add what Medic cannot know before publishing._",
        "",
        "## Summary",
        "",
        *_summary(file, catalog),
        "",
        "## Impact",
        "",
        *_impact(file, events, catalog, now),
        "",
        "## Timeline",
        "",
        "| time (UTC) | what happened |",
        "|---|---|",
        *[f"| {when(e.at)[:-4]} | {e.text} |" for e in events],
        "",
        "## Root cause",
        "",
        *_root_cause(file, catalog),
        "",
        "## What fixed it",
        "",
        *_fix(file),
        "",
        "## Similar past incidents",
        "",
        *_similar(file),
        "",
        "## Action items",
        "",
        *_action_items(file, catalog),
        "",
    ]
    return "\n".join(lines)


def _summary(file: IncidentFile, catalog: Glossary) -> list[str]:
    inc = file.incident
    top = (
        file.investigation.hypotheses[0]
        if file.investigation and file.investigation.hypotheses
        else None
    )
    ran = [p for p in file.proposals if p.status is ProposalStatus.SUCCEEDED][:MAX_ITEMS]
    lines = [
        f"- **Alert:** {md_text(inc.alertname, 120)} on {md_text(inc.service, 120)} "
        f"(namespace {md_text(inc.namespace, 120)}), fired {when(inc.starts_at)}",
        "- **Status:** "
        + (f"resolved {when(inc.resolved_at)}" if inc.resolved_at is not None else "still open"),
    ]
    if file.correction is not None:
        lines.append(
            f"- **Cause (corrected by {_who(file.correction.by)}):** "
            + md_text(file.correction.text)
        )
    elif top is not None:
        lines.append(f"- **Most likely cause (Medic's ranking):** {md_text(top.text)}")
    else:
        lines.append("- **Cause:** not diagnosed")
    lines.append(
        "- **Fixed by:** " + ("; ".join(f"`{_change(p)}`" for p in ran) if ran else "no action ran")
    )
    return lines


def _impact(
    file: IncidentFile, events: Sequence[Event], catalog: Glossary, now: float
) -> list[str]:
    inc = file.incident
    end = inc.resolved_at
    lasted = (
        f"{duration(end - inc.starts_at)} (alert to resolution)"
        if end is not None
        else f"{duration(max(e.at for e in events) - inc.starts_at)} so far (alert to last event)"
    )
    roles: dict[str, list[str]] = {inc.service: ["alerting"]}
    view = origins_view(file.investigation, catalog) if file.investigation else None
    if view is not None:
        roles.setdefault(view.origin.service, []).append("where it started")
        for o in view.ranked:
            if o.clear:
                roles.setdefault(o.service, ["deviated too"])
    services = [f"{md_text(s, 120)} ({', '.join(r)})" for s, r in list(roles.items())[:MAX_ITEMS]]
    labels = sorted(inc.labels.items())[:MAX_LABELS]
    lines = [
        f"- **Duration:** {lasted}",
        "- **Services:** " + "; ".join(services),
        f"- **Alerts:** {md_text(inc.alertname, 120)} ("
        + ", ".join(f"{md_text(k, 60)}={md_text(v, 120)}" for k, v in labels)
        + ")",
    ]
    if file.investigation is not None and file.investigation.findings:
        metrics = dict.fromkeys(f.metric for f in file.investigation.findings)
        lines.append(
            "- **Abnormal signals:** "
            + ", ".join(md_text(m, 80) for m in list(metrics)[:MAX_ITEMS])
        )
    return lines


def _root_cause(file: IncidentFile, catalog: Glossary) -> list[str]:
    inv = file.investigation
    if inv is None:
        return ["No diagnosis was kept for this incident: write the root cause here."]
    lines: list[str] = []
    if file.correction is not None:
        c = file.correction
        lines += [f"Corrected in the thread by {_who(c.by)}: {md_text(c.text)}", ""]
    if inv.hypotheses:
        top = inv.hypotheses[0]
        lines.append(
            f"**{md_text(top.title, 200)}** (score {top.score:.2f}). {md_text(top.summary)}"
        )
        lines += [f"- {e.kind}: {md_text(e.text)}" for e in top.evidence[:MAX_ITEMS]]
        others = inv.hypotheses[1:3]
        if others:
            lines += [
                "",
                "Also considered: "
                + "; ".join(f"{md_text(h.title, 120)} ({h.score:.2f})" for h in others),
            ]
    view = origins_view(inv, catalog)
    if view is not None:
        o = view.origin
        began = f", first deviating at {when(o.began)}" if o.began is not None else ""
        lines += ["", f"**Where it started:** {md_text(o.service, 120)}{began}."]
        lines += [f"- {md_text(e)}" for e in o.evidence[:MAX_ITEMS]]
    if inv.changes:
        lines += ["", "**Recent changes:**"]
        lines += [
            f"- {md_text(c.service, 120)} revision {c.revision} at {when(c.at)}: {md_text(c.what)}"
            for c in inv.changes[:MAX_ITEMS]
        ]
    return lines or ["Medic found no cause: write the root cause here."]


def _fix(file: IncidentFile) -> list[str]:
    ran = [p for p in file.proposals if p.status in EXECUTED]
    lines = [
        f"- `{_change(p)}`, approved by {_who(p.decided_by)}: {p.status.value} - "
        f"{md_text(p.outcome or p.status.value)}"
        for p in ran[:MAX_ITEMS]
    ]
    if len(ran) > MAX_ITEMS:
        lines.append(f"- _and {len(ran) - MAX_ITEMS} more actions (see the timeline)_")
    for v in file.verifications[-1:]:
        verdict = "recovered" if v.recovered else "not recovered"
        lines.append(f"- Verified {when(v.at)}: **{verdict}**")
        lines += [f"  - {md_text(c)}" for c in v.checks[:MAX_ITEMS]]
    return lines or ["- No action ran through Medic."]


def _similar(file: IncidentFile) -> list[str]:
    inv = file.investigation
    if inv is None or not inv.similar:
        return ["- none found in the memory"]
    lines = []
    for m in inv.similar[:MAX_ITEMS]:
        r = m.record
        fixed = ", ".join(x.describe() for x in r.remediation) or "no recorded fix"
        lines.append(
            f"- {md_text(r.id, 80)}: {md_text(r.title, 200)} (similarity {m.similarity:.2f}; "
            f"fixed by {md_text(fixed, 200)}; outcome {md_text(r.outcome, 40)})"
        )
    return lines


def _action_items(file: IncidentFile, catalog: Glossary) -> list[str]:
    """Follow-ups the record supports: the runbooks' advice for a human, what the guard refused
    or did not finish, a fix not shown to work, how late the alert came after the first
    deviation, and preventing the cause."""
    advice = file.plan.advice if file.plan else []
    items = [f"- [ ] {md_text(a)} _(runbook advice)_" for a in advice[:MAX_ITEMS]]
    for p in file.proposals[: MAX_ITEMS * 2]:
        if p.status is ProposalStatus.REFUSED:
            items.append(f"- [ ] Review why `{_change(p)}` was refused: {md_text(p.refusal)}")
        elif p.status in (ProposalStatus.FAILED, ProposalStatus.UNKNOWN):
            items.append(f"- [ ] Find out why `{_change(p)}` ended {p.status.value}")
    if file.verifications and not file.verifications[-1].recovered:
        items.append("- [ ] The last verification did not show recovery: confirm the fix")
    inv, inc = file.investigation, file.incident
    view = origins_view(inv, catalog) if inv is not None else None
    if view is not None and view.origin.began is not None and view.origin.began < inc.starts_at:
        items.append(
            f"- [ ] Detect it sooner: {md_text(view.origin.service, 120)} deviated at "
            f"{when(view.origin.began)}, {duration(inc.starts_at - view.origin.began)} before "
            f"{md_text(inc.alertname, 120)} fired"
        )
    if inv is not None and inv.hypotheses and file.correction is None:
        items.append(f"- [ ] Prevent a recurrence of: {md_text(inv.hypotheses[0].title, 200)}")
    items.append("- [ ] What else would have prevented this, or found it sooner?")
    return items
