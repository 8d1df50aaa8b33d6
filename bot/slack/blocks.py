"""Block Kit for the alert thread: the root message, the diagnosis with its proposals and buttons,
verification and notes. Pure functions from plain data to messages; every message leaves through
:func:`bot.slack.limits.fit` before it is sent.

Every text here is :class:`~bot.slack.mrkdwn.Mrkdwn`: the builders (:func:`section`,
:func:`context`, :func:`mrkdwn`, :class:`Message`) take nothing else, so alert, log, label, user
and model text reaches a block only through :func:`~bot.slack.mrkdwn.markup` or
:func:`~bot.slack.mrkdwn.escape`, and links only through :func:`~bot.slack.mrkdwn.link`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from bot import messages
from bot.alerts import AlertGroup
from bot.diagnosis.hypotheses import clear_cause
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.diagnosis.verification import Verification
from bot.incidents import Incident
from bot.planners.combine import Plan
from bot.slack.decisions import is_withdrawn
from bot.slack.limits import Block
from bot.slack.mrkdwn import Mrkdwn, escape, joined, link, markup
from bot.slack.mrkdwn import plain as plain_text
from tools.actions import Action
from tools.proposals import Proposal, ProposalStatus

APPROVE_ACTION = "medic_approve"
REJECT_ACTION = "medic_reject"
MAX_HYPOTHESES = 4
MAX_EVIDENCE = 4
MAX_TEMPLATES = 6
MAX_FINDINGS = 8


__all__ = ["Message", "Mrkdwn", "escape", "link", "markup"]


@dataclass(frozen=True)
class Message:
    text: Mrkdwn  # the fallback: notifications, and clients that show no blocks, read it
    blocks: list[Block]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def mrkdwn(text: Mrkdwn) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": plain_text(text), "emoji": True}


def section(text: Mrkdwn, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: Mrkdwn) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def slack_time(ts: float) -> Mrkdwn:
    """A time Slack shows in each reader's time zone, with UTC as the fallback."""
    try:
        fallback = datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return Mrkdwn("an unknown time")
    return Mrkdwn(f"<!date^{int(ts)}^{{time}}|{fallback}>")


def who(user: str | None) -> Mrkdwn:
    """A mention for a Slack user id, the plain name for anyone else (the CLI, Medic itself)."""
    if user and user[:1] in "UW" and user.isalnum() and user.isascii():
        return Mrkdwn(f"<@{user}>")
    return escape(user or "someone")


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
        changed_at=group.changed_at,
    )


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
    if view.source_url:
        notes.append(link(view.source_url, "Alertmanager"))
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{icon} {title}")},
        section(body),
        {"type": "section", "fields": fields},
    ]
    if notes:
        blocks.append(context(joined(" · ", notes)))
    return Message(markup("{} - {}", title, view.summary), blocks)


# --- the diagnosis -----------------------------------------------------------------------------


def _findings(inv: Investigation, catalog: Glossary) -> Mrkdwn:
    if not inv.findings:
        return markup(messages.NO_FINDINGS)
    lines = []
    for f in inv.findings[:MAX_FINDINGS]:
        explained = markup(" - {}", catalog.attribution_text(f)) if f.attribution else Mrkdwn("")
        lines.append(
            markup(
                "• {} since {}, confidence {:.2f}{}",
                catalog.describe(f),
                slack_time(f.start),
                f.confidence,
                explained,
            )
        )
    if len(inv.findings) > MAX_FINDINGS:
        lines.append(markup("• and {} more", len(inv.findings) - MAX_FINDINGS))
    return joined("\n", lines)


def _templates(inv: Investigation) -> Mrkdwn:
    stats = inv.templates.abnormal if inv.templates else []
    if not stats:
        return markup(messages.NO_TEMPLATES)
    return joined(
        "\n",
        (
            markup("• [{}] `{}` ({:.1f}/min)", s.change, s.template, s.current_rate)
            for s in stats[:MAX_TEMPLATES]
        ),
    )


def _hypotheses(inv: Investigation) -> list[Block]:
    if not inv.hypotheses:
        return [section(markup(messages.NO_HYPOTHESIS))]
    blocks = []
    if clear_cause(inv.hypotheses) is None:
        blocks.append(section(markup(":grey_question: {}", messages.NO_CLEAR_CAUSE)))
    for rank, h in enumerate(inv.hypotheses[:MAX_HYPOTHESES], 1):
        blocks.append(section(markup("*{}. {}* - score {:.2f}", rank, h.text, h.score)))
        evidence = [
            markup("{}{}: {}", Mrkdwn(":warning: " if e.kind == "against" else ""), e.kind, e.text)
            for e in h.evidence[:MAX_EVIDENCE]
        ]
        if evidence:
            blocks.append(context(joined("\n", evidence)))
    return blocks


def _similar(inv: Investigation) -> Mrkdwn:
    if not inv.similar:
        return markup(messages.NO_SIMILAR)
    lines = []
    for m in inv.similar:
        r = m.record
        fixed = ", ".join(x.describe() for x in r.remediation) or "-"
        lines.append(
            markup(
                "• *{}* ({:.2f}) {}\n   fixed by: {} -> {}; matched on {}",
                r.id,
                m.similarity,
                r.title,
                fixed,
                r.outcome.replace("_", " "),
                m.explanation,
            )
        )
    return joined("\n", lines)


def _bullets(title: str, lines: list[str]) -> Block:
    items = joined("\n", (markup("• {}", line) for line in lines))
    return section(markup("*{}*\n{}", title, items))


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
    planners = [context(markup("planned by {}", ", ".join(plan.planners)))] if plan.planners else []
    return before, planners


def diagnosis_head(
    incident: Incident, inv: Investigation, catalog: Glossary, plan: Plan | None = None
) -> tuple[Mrkdwn, list[Block]]:
    """The part of the diagnosis that never changes: (fallback text, blocks). With the ``plan``:
    the runbooks' diagnostic steps, advice for a human and which planners ran (the dropped
    proposals and the planners' notes are among the investigation's notes)."""
    best = clear_cause(inv.hypotheses)
    top = best.title if best else "no clear cause"
    text = markup(
        "Medic investigated {} ({}): {} abnormal metric(s); most likely {}",
        incident.id,
        incident.service,
        len(inv.findings),
        top,
    )
    blocks: list[Block] = [
        section(
            markup(
                ":mag: *Medic investigated {}* - {} in {}: {} series and the service's logs in "
                "{:.2f} s",
                incident.id,
                incident.service,
                incident.namespace,
                len(inv.series),
                inv.seconds,
            )
        )
    ]
    if inv.notes:
        blocks.append(context(*(markup(":warning: {}", n) for n in inv.notes)))
    blocks.append(section(markup("*What is abnormal*\n{}", _findings(inv, catalog))))
    if inv.forecasts or inv.drift:
        outlook = joined(
            "\n", (markup("• {}", catalog.outlook_text(f)) for f in inv.forecasts + inv.drift)
        )
        blocks.append(section(markup("*What is coming, what drifted*\n{}", outlook)))
    blocks.append(section(markup("*What the logs say*\n{}", _templates(inv))))
    blocks.append(section(Mrkdwn("*Likely causes*")))
    blocks.extend(_hypotheses(inv))
    blocks.append(section(markup("*Similar past incidents*\n{}", _similar(inv))))
    before, planners = _plan(plan)
    blocks.extend(before)
    blocks.append({"type": "divider"})
    blocks.append(section(Mrkdwn("*Proposed actions*")))
    blocks.extend(planners)
    return text, blocks


def _confirm(title: str, text: Mrkdwn, confirm: str, style: str | None = None) -> dict[str, Any]:
    dialog: dict[str, Any] = {
        "title": plain(title),
        "text": mrkdwn(Mrkdwn(text[:297] + "...") if len(text) > 300 else text),
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
                    markup("*{}*\nDry run: {}", change, p.preview),
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
                    "Reject this change?", markup("*{}* will not run.", change), "Reject", "danger"
                ),
            },
        ],
    }


def decision_line(p: Proposal, after: str = "") -> Mrkdwn:
    """One line on a decided proposal: who, when, what happened (and what verification found)."""
    user, when = who(p.decided_by), slack_time(p.decided_at or 0)
    if is_withdrawn(p):
        return markup(
            ":leftwards_arrow_with_hook: " + messages.WITHDRAWN,
            reason=messages.ALERT_RESOLVED_REASON,
            preview=p.preview,
        )
    if p.status is ProposalStatus.REJECTED:
        return markup(":no_entry_sign: " + messages.REJECTED_BY, user=user, preview=p.preview)
    if p.status is ProposalStatus.SUCCEEDED:
        summary = markup("{} - {}", p.outcome, after) if after else escape(p.outcome)
        return markup(
            ":white_check_mark: " + messages.APPROVED_BY, user=user, when=when, summary=summary
        )
    if p.status is ProposalStatus.FAILED:
        summary = markup("failed: {}", p.outcome)
        return markup(":x: " + messages.APPROVED_BY, user=user, when=when, summary=summary)
    if p.status is ProposalStatus.UNKNOWN:
        summary = markup("outcome unknown: {}", p.outcome)
        return markup(
            ":grey_question: " + messages.APPROVED_BY, user=user, when=when, summary=summary
        )
    if p.status in (ProposalStatus.APPROVED, ProposalStatus.EXECUTING):
        return markup(
            ":hourglass_flowing_sand: " + messages.APPROVED_BY,
            user=user,
            when=when,
            summary="executing",
        )
    if p.status is ProposalStatus.EXPIRED:
        return markup(":zzz: Expired: {}", p.preview)
    return markup("~{}~ {}", exact_change(p.action), p.refusal)


def proposal_blocks(p: Proposal, after: str = "") -> list[Block]:
    block_id = f"proposal:{p.id}"
    if p.status is ProposalStatus.PROPOSED:
        text = markup(
            "*{}*\nwhy: {}\nsource: {} · expires {}",
            p.preview,
            p.rationale,
            p.source,
            slack_time(p.expires_at),
        )
        return [section(text, block_id), _buttons(p)]
    return [section(decision_line(p, after), block_id)]


def diagnosis_message(
    text: Mrkdwn, head: list[Block], proposals: list[Proposal], after: str = ""
) -> Message:
    """The diagnosis with the current state of each proposal; ``after`` is what verification
    found, appended to executed proposals."""
    blocks = list(head)
    if not proposals:
        blocks.append(section(markup(messages.NO_PROPOSALS)))
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
    icon = Mrkdwn(":white_check_mark:" if v.recovered else ":warning:")
    lines = [markup("{} *Verification of {}: {}*", icon, incident_id, verdict)]
    lines += [markup("• {}", c.text) for c in v.checks]
    if v.note:
        lines.append(escape(v.note))
    fallback = markup("Verification of {}: {}", incident_id, verdict)
    return Message(fallback, [section(joined("\n", lines))])


def interrupted_message(p: Proposal, finding: str, ran_now: bool) -> Message:
    """What became of an action a stop interrupted (or of an approval it left unstarted)."""
    change = exact_change(p.action)
    if ran_now:
        text = markup(messages.SLACK_RESUMED, change=change, finding=finding)
    else:
        text = markup(
            messages.SLACK_INTERRUPTED[p.status.value],
            change=change,
            finding=finding,
            target=p.action.target,
        )
    return Message(text, [section(text)])


def note_message(text: Mrkdwn) -> Message:
    return Message(text, [context(text)])


def answer_message(text: str) -> Message:
    """Medic's answer to a question in a thread: plain words, any alert or log text escaped."""
    return Message(escape(text), [section(escape(text), block_id="answer")])
