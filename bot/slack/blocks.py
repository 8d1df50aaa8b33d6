"""Block Kit for the alert thread: the root message, the diagnosis with its proposals and buttons,
verification and notes. Pure functions from plain data to messages; every message leaves through
:func:`bot.slack.limits.fit` before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from bot import messages
from bot.alerts import AlertGroup
from bot.diagnosis import clear_cause
from bot.incidents import Incident
from bot.investigation import Investigation
from bot.planner import Plan
from bot.signals import SignalCatalog
from bot.slack.decisions import is_withdrawn
from bot.slack.limits import Block
from bot.verification import Verification
from tools.actions import Action
from tools.proposals import Proposal, ProposalStatus

APPROVE_ACTION = "medic_approve"
REJECT_ACTION = "medic_reject"
MAX_HYPOTHESES = 4
MAX_EVIDENCE = 4
MAX_TEMPLATES = 6
MAX_FINDINGS = 8


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[Block]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def escape(text: str) -> str:
    """Slack's three control characters, so alert text cannot fake mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_time(ts: float) -> str:
    """A time Slack shows in each reader's time zone, with UTC as the fallback."""
    fallback = datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")
    return f"<!date^{int(ts)}^{{time}}|{fallback}>"


def who(user: str | None) -> str:
    """A mention for a Slack user id, the plain name for anyone else (the CLI, Medic itself)."""
    if user and user[:1] in "UW" and user.isalnum():
        return f"<@{user}>"
    return user or "someone"


def exact_change(action: Action) -> str:
    params = " ".join(f"{k}={v}" for k, v in sorted(action.params.items()))
    return f"{action.tool} {action.target}" + (f" {params}" if params else "")


# --- the root message --------------------------------------------------------------------------


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
    )


def root_message(view: RootView) -> Message:
    firing = view.status == "firing"
    icon, word = (":rotating_light:", "FIRING") if firing else (":white_check_mark:", "RESOLVED")
    count = f":{view.firing}" if firing else ""
    title = f"[{word}{count}] {view.alertname}"
    fields = [
        mrkdwn(f"*Service*\n{escape(view.service or '-')}"),
        mrkdwn(f"*Namespace*\n{escape(view.namespace or '-')}"),
        mrkdwn(f"*Severity*\n{escape(view.severity or '-')}"),
        mrkdwn(f"*Alerts*\n{view.firing} firing, {view.resolved} resolved"),
    ]
    body = f"*{escape(view.summary)}*"
    if view.description:
        body += f"\n{escape(view.description)}"
    notes = []
    if view.group_labels:
        notes.append(
            "group: " + ", ".join(f"{k}={escape(v)}" for k, v in sorted(view.group_labels.items()))
        )
    if view.incidents:
        notes.append("incidents: " + ", ".join(view.incidents))
    if view.source_url:
        notes.append(f"<{view.source_url}|Alertmanager>")
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{icon} {title}")},
        section(body),
        {"type": "section", "fields": fields},
    ]
    if notes:
        blocks.append(context(" · ".join(notes)))
    return Message(f"{title} - {view.summary}", blocks)


# --- the diagnosis -----------------------------------------------------------------------------


def _findings(inv: Investigation, catalog: SignalCatalog) -> str:
    if not inv.findings:
        return messages.NO_FINDINGS
    lines = []
    for f in inv.findings[:MAX_FINDINGS]:
        explained = f" - {escape(catalog.attribution_text(f))}" if f.attribution else ""
        lines.append(
            f"• {escape(catalog.describe(f))} since {slack_time(f.start)}, "
            f"confidence {f.confidence:.2f}{explained}"
        )
    if len(inv.findings) > MAX_FINDINGS:
        lines.append(f"• and {len(inv.findings) - MAX_FINDINGS} more")
    return "\n".join(lines)


def _templates(inv: Investigation) -> str:
    stats = inv.templates.abnormal if inv.templates else []
    if not stats:
        return messages.NO_TEMPLATES
    return "\n".join(
        f"• [{s.change}] `{escape(s.template)}` ({s.current_rate:.1f}/min)"
        for s in stats[:MAX_TEMPLATES]
    )


def _hypotheses(inv: Investigation) -> list[Block]:
    if not inv.hypotheses:
        return [section(messages.NO_HYPOTHESIS)]
    blocks = []
    if clear_cause(inv.hypotheses) is None:
        blocks.append(section(f":grey_question: {messages.NO_CLEAR_CAUSE}"))
    for rank, h in enumerate(inv.hypotheses[:MAX_HYPOTHESES], 1):
        blocks.append(section(f"*{rank}. {escape(h.text)}* - score {h.score:.2f}"))
        evidence = [
            f"{':warning: ' if e.kind == 'against' else ''}{e.kind}: {escape(e.text)}"
            for e in h.evidence[:MAX_EVIDENCE]
        ]
        if evidence:
            blocks.append(context("\n".join(evidence)))
    return blocks


def _similar(inv: Investigation) -> str:
    if not inv.similar:
        return messages.NO_SIMILAR
    lines = []
    for m in inv.similar:
        r = m.record
        fixed = ", ".join(x.describe() for x in r.remediation) or "-"
        lines.append(
            f"• *{escape(r.id)}* ({m.similarity:.2f}) {escape(r.title)}\n"
            f"   fixed by: {escape(fixed)} -> {r.outcome.replace('_', ' ')}; "
            f"matched on {escape(m.explanation)}"
        )
    return "\n".join(lines)


def _bullets(title: str, lines: list[str]) -> Block:
    return section(f"*{title}*\n" + "\n".join(f"• {escape(line)}" for line in lines))


def _plan(plan: Plan | None) -> tuple[list[Block], list[Block]]:
    """What the plan adds around the proposals: (the diagnostic steps run and the advice for a
    human, before them; which planners ran and how, under their heading)."""
    if plan is None:
        return [], []
    before = []
    if plan.checked:
        before.append(_bullets("Checked", plan.checked))
    if plan.advice:
        before.append(_bullets("For a human", plan.advice))
    planners = [context(f"planned by {escape(', '.join(plan.planners))}")] if plan.planners else []
    return before, planners


def diagnosis_head(
    incident: Incident, inv: Investigation, catalog: SignalCatalog, plan: Plan | None = None
) -> tuple[str, list[Block]]:
    """The part of the diagnosis that never changes: (fallback text, blocks). With the ``plan``:
    the runbooks' diagnostic steps, advice for a human and which planners ran (the dropped
    proposals and the planners' notes are among the investigation's notes)."""
    best = clear_cause(inv.hypotheses)
    top = best.title if best else "no clear cause"
    text = (
        f"Medic investigated {incident.id} ({incident.service}): {len(inv.findings)} abnormal "
        f"metric(s); most likely {top}"
    )
    blocks: list[Block] = [
        section(
            f":mag: *Medic investigated {incident.id}* - {escape(incident.service)} in "
            f"{escape(incident.namespace)}: {len(inv.series)} series and the service's logs in "
            f"{inv.seconds:.2f} s"
        )
    ]
    if inv.notes:
        blocks.append(context(*(f":warning: {escape(n)}" for n in inv.notes)))
    blocks.append(section(f"*What is abnormal*\n{_findings(inv, catalog)}"))
    if inv.forecasts or inv.drift:
        outlook = "\n".join(
            f"• {escape(catalog.outlook_text(f))}" for f in inv.forecasts + inv.drift
        )
        blocks.append(section(f"*What is coming, what drifted*\n{outlook}"))
    blocks.append(section(f"*What the logs say*\n{_templates(inv)}"))
    blocks.append(section("*Likely causes*"))
    blocks.extend(_hypotheses(inv))
    blocks.append(section(f"*Similar past incidents*\n{_similar(inv)}"))
    before, planners = _plan(plan)
    blocks.extend(before)
    blocks.append({"type": "divider"})
    blocks.append(section("*Proposed actions*"))
    blocks.extend(planners)
    return text, blocks


def _confirm(title: str, text: str, confirm: str, style: str | None = None) -> dict[str, Any]:
    dialog: dict[str, Any] = {
        "title": plain(title),
        "text": mrkdwn(text[:297] + "..." if len(text) > 300 else text),
        "confirm": plain(confirm),
        "deny": plain("Cancel"),
    }
    if style:
        dialog["style"] = style
    return dialog


def _buttons(p: Proposal) -> Block:
    change = exact_change(p.action)
    return {
        "type": "actions",
        "block_id": f"actions:{p.id}",
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE_ACTION,
                "text": plain("Approve"),
                "style": "primary",
                "value": f"{p.id}:{p.digest}",
                "confirm": _confirm(
                    "Approve this change?",
                    f"*{change}*\nDry run: {p.preview}",
                    "Approve",
                    "primary",
                ),
            },
            {
                "type": "button",
                "action_id": REJECT_ACTION,
                "text": plain("Reject"),
                "style": "danger",
                "value": p.id,
                "confirm": _confirm(
                    "Reject this change?", f"*{change}* will not run.", "Reject", "danger"
                ),
            },
        ],
    }


def decision_line(p: Proposal, after: str = "") -> str:
    """One line on a decided proposal: who, when, what happened (and what verification found)."""
    user, when = who(p.decided_by), slack_time(p.decided_at or 0)
    if is_withdrawn(p):
        return ":leftwards_arrow_with_hook: " + messages.WITHDRAWN.format(
            reason=messages.ALERT_RESOLVED_REASON, preview=escape(p.preview)
        )
    if p.status is ProposalStatus.REJECTED:
        return ":no_entry_sign: " + messages.REJECTED_BY.format(
            user=user, preview=escape(p.preview)
        )
    if p.status is ProposalStatus.SUCCEEDED:
        summary = escape(p.outcome) + (f" - {escape(after)}" if after else "")
        return ":white_check_mark: " + messages.APPROVED_BY.format(
            user=user, when=when, summary=summary
        )
    if p.status is ProposalStatus.FAILED:
        return ":x: " + messages.APPROVED_BY.format(
            user=user, when=when, summary=f"failed: {escape(p.outcome)}"
        )
    if p.status is ProposalStatus.UNKNOWN:
        return ":grey_question: " + messages.APPROVED_BY.format(
            user=user, when=when, summary=f"outcome unknown: {escape(p.outcome)}"
        )
    if p.status in (ProposalStatus.APPROVED, ProposalStatus.EXECUTING):
        return ":hourglass_flowing_sand: " + messages.APPROVED_BY.format(
            user=user, when=when, summary="executing"
        )
    if p.status is ProposalStatus.EXPIRED:
        return f":zzz: Expired: {escape(p.preview)}"
    return f"~{escape(exact_change(p.action))}~ {escape(p.refusal)}"


def proposal_blocks(p: Proposal, after: str = "") -> list[Block]:
    block_id = f"proposal:{p.id}"
    if p.status is ProposalStatus.PROPOSED:
        text = (
            f"*{escape(p.preview)}*\nwhy: {escape(p.rationale)}\n"
            f"source: {escape(p.source)} · expires {slack_time(p.expires_at)}"
        )
        return [section(text, block_id), _buttons(p)]
    return [section(decision_line(p, after), block_id)]


def diagnosis_message(
    text: str, head: list[Block], proposals: list[Proposal], after: str = ""
) -> Message:
    """The diagnosis with the current state of each proposal; ``after`` is what verification
    found, appended to executed proposals."""
    blocks = list(head)
    if not proposals:
        blocks.append(section(messages.NO_PROPOSALS))
    for p in proposals:
        blocks.extend(proposal_blocks(p, after))
    return Message(text, blocks)


# --- later replies -----------------------------------------------------------------------------


def short_check(text: str) -> str:
    """'p95 latency back to 180 ms' from a verification check's full sentence."""
    return text.split(" (", 1)[0]


def verification_summary(v: Verification) -> str:
    if v.checks:
        return "; ".join(short_check(c.text) for c in v.checks)
    return v.note


def verification_message(incident_id: str, v: Verification) -> Message:
    verdict = "recovered" if v.recovered else "not recovered"
    icon = ":white_check_mark:" if v.recovered else ":warning:"
    lines = [f"{icon} *Verification of {incident_id}: {verdict}*"]
    lines += [f"• {escape(c.text)}" for c in v.checks]
    if v.note:
        lines.append(escape(v.note))
    return Message(f"Verification of {incident_id}: {verdict}", [section("\n".join(lines))])


def interrupted_message(p: Proposal, finding: str, ran_now: bool) -> Message:
    """What became of an action a stop interrupted (or of an approval it left unstarted)."""
    change = escape(exact_change(p.action))
    if ran_now:
        text = messages.SLACK_RESUMED.format(change=change, finding=escape(finding))
    else:
        text = messages.SLACK_INTERRUPTED[p.status.value].format(
            change=change, finding=escape(finding), target=escape(p.action.target)
        )
    return Message(text, [section(text)])


def note_message(text: str) -> Message:
    return Message(text, [context(text)])


def answer_message(text: str) -> Message:
    """Medic's answer to a question in a thread: plain words, any alert or log text escaped."""
    return Message(escape(text), [section(escape(text), block_id="answer")])
