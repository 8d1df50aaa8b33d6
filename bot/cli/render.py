"""The conversation on a terminal, laid out as it appears in the alert's Slack thread.

The diagnosis is rendered from the same :class:`~bot.views.DiagnosisView` as Slack's, so the
two show the same items. Everything printed goes through :class:`rich.text.Text` (titles too),
which never reads rich markup: ``[bold]`` in a log line or an alert label is shown as written.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot import messages
from bot.alerts import AlertGroup
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.diagnosis.verification import Verification
from bot.flow import Outcome
from bot.incidents import Incident
from bot.model_views import model_lines
from bot.origin_views import OriginsView
from bot.planners.combine import Plan
from bot.views import DiagnosisView, PlanView, diagnosis_view
from knowledge.records import IncidentRecord
from tools.actions import ToolStatus
from tools.proposals import Proposal, ProposalStatus


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def _reply(title: str, body: RenderableType, style: str = "cyan") -> RenderableType:
    """A message in the thread: indented under the alert, like a Slack thread reply."""
    panel = Panel(body, title=Text(title), title_align="left", border_style=style)
    return Padding(panel, (0, 0, 0, 4))


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold")


def _findings(view: DiagnosisView) -> RenderableType:
    if not view.findings:
        return Text(messages.NO_FINDINGS)
    table = Table(show_edge=False, pad_edge=False, box=None)
    for col in ("metric", "since", "baseline", "now", "change", "confidence"):
        table.add_column(col)
    for f in view.findings:
        table.add_row(
            Text(f.name),
            _time(f.since),
            f.baseline,
            f.observed,
            f.change,
            f"{f.confidence:.2f}",
        )
    lines: list[RenderableType] = [table]
    if view.more_findings:
        lines.append(Text("  " + messages.AND_MORE.format(count=view.more_findings)))
    lines += [Text(f"  {f.name}: {f.explained}", style="dim") for f in view.findings if f.explained]
    return Group(*lines) if len(lines) > 1 else table


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


def _origins(origins: OriginsView) -> RenderableType:
    """Where it started: the headline, then each shown candidate's facts and evidence."""
    lines: list[RenderableType] = [Text(origins.headline.plain(_utc))]
    for o in origins.ranked:
        facts = "; ".join(f.plain(_utc) for f in o.facts)
        lines.append(
            Text.assemble(
                (f"  {o.rank}. ", "bold"), (o.service, "bold"), f"  score {o.score:.2f}; {facts}"
            )
        )
        lines += [Text(f"       - {e}", style="dim") for e in o.evidence]
    if origins.more:
        lines.append(Text("  " + messages.AND_MORE.format(count=origins.more)))
    lines.append(Text("  " + origins.looked_at.plain(_utc), style="dim"))
    return Group(*lines)


def _templates(view: DiagnosisView) -> RenderableType:
    if not view.templates:
        return Text(messages.NO_TEMPLATES)
    return Group(
        *(Text(f"  [{t.change:>4}] {t.template}  ({t.rate:.1f}/min)") for t in view.templates)
    )


def _hypotheses(view: DiagnosisView) -> RenderableType:
    if not view.hypotheses:
        return Text(messages.NO_HYPOTHESIS)
    lines: list[RenderableType] = []
    if view.likely is None:
        lines.append(Text(messages.NO_CLEAR_CAUSE, style="yellow"))
    for h in view.hypotheses:
        lines.append(
            Text.assemble((f"  {h.rank}. ", "bold"), (h.text, "bold"), f"  score {h.score:.2f}")
        )
        lines += [
            Text(f"       - {e.kind}: {e.text}", style="yellow" if e.against else "dim")
            for e in h.evidence
        ]
    return Group(*lines)


def _similar(view: DiagnosisView) -> RenderableType:
    if not view.similar:
        return Text(messages.NO_SIMILAR)
    lines: list[RenderableType] = []
    for s in view.similar:
        weak = messages.SIMILAR_WEAK if s.weak else ""
        lines.append(Text(f"  {s.id}  {s.similarity:.2f}  {weak}{s.title}"))
        lines.append(Text(f"       what was done: {s.fixed_by} -> {s.outcome}", style="dim"))
        lines.append(Text(f"       why it matched: {s.why}", style="dim"))
    return Group(*lines)


def _proposals(proposals: list[Proposal]) -> RenderableType:
    if not proposals:
        return Text(messages.NO_PROPOSALS)
    lines: list[RenderableType] = []
    for rank, p in enumerate(proposals, 1):
        if p.status is ProposalStatus.REFUSED:
            lines.append(
                Text(
                    f"  {rank}. {p.action.tool} {p.action.target} {p.action.params}  {p.refusal}",
                    style="yellow",
                )
            )
            continue
        lines.append(
            Text.assemble(
                f"  {rank}. ",
                (p.preview, "bold"),
                "   ",
                (f"[{messages.SLACK_APPROVE}]", "bold green"),
                " ",
                (f"[{messages.SLACK_REJECT}]", "bold red"),
            )
        )
        lines.append(Text(f"       why: {p.rationale}", style="dim"))
        lines.append(Text(f"       source: {p.source}", style="dim"))
    return Group(*lines)


def _plan(plan: PlanView) -> list[RenderableType]:
    parts: list[RenderableType] = [
        Text("  " + messages.PLANNED_BY.format(planners=", ".join(plan.planners)), style="dim")
    ]
    if plan.checked:
        parts += [_heading(messages.HEADING_CHECKED), *(Text(f"  - {c}") for c in plan.checked)]
    if plan.advice:
        parts += [_heading(messages.HEADING_ADVICE), *(Text(f"  - {a}") for a in plan.advice)]
    return parts


def diagnosis(view: DiagnosisView, proposals: list[Proposal]) -> RenderableType:
    """The diagnosis reply: the view's sections, then the proposals and the plan."""
    parts: list[RenderableType] = [
        Text(messages.INVESTIGATED.format(series=view.series, seconds=view.seconds), style="dim"),
        Text(
            messages.WINDOW_USED.format(
                start=_time(view.window.start),
                end=_time(view.window.end),
                baseline_start=_time(view.window.baseline_start),
                why=view.window.why,
            ),
            style="dim",
        ),
    ]
    parts += [Text(f"! {note}", style="yellow") for note in view.notes]
    if view.origins is not None:
        parts += [_heading(messages.HEADING_ORIGIN), _origins(view.origins)]
    parts += [_heading(messages.HEADING_ABNORMAL), _findings(view)]
    if view.outlook:
        parts += [
            _heading(messages.HEADING_OUTLOOK),
            Group(*(Text(f"  {o}") for o in view.outlook)),
        ]
    if view.model is not None:
        parts += [
            _heading(messages.HEADING_MODEL),
            Group(*(Text("  " * (d + 1) + p.plain(_utc)) for d, p in model_lines(view.model))),
        ]
    parts += [_heading(messages.HEADING_LOGS), _templates(view)]
    parts += [_heading(messages.HEADING_CAUSES), _hypotheses(view)]
    parts += [_heading(messages.HEADING_SIMILAR), _similar(view)]
    parts += [_heading(messages.HEADING_PROPOSALS), _proposals(proposals)]
    if view.plan is not None:
        parts += _plan(view.plan)
    return _reply(f"Medic  {view.incident_id}", Group(*parts))


class ThreadPrinter:
    """Prints each step of the incident flow as the reply Slack would post in the thread."""

    def __init__(self, console: Console, catalog: Glossary) -> None:
        self.console = console
        self.catalog = catalog

    def alert(self, group: AlertGroup, incident: Incident, new: bool) -> None:
        alert = group.alerts[0]
        head = Text.assemble(
            ("FIRING ", "bold red"),
            (alert.name, "bold"),
            f"  ({alert.labels.get('severity', '-')})",
        )
        labels = " ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
        status = (messages.TERMINAL_OPENED if new else messages.TERMINAL_ATTACHED).format(
            incident=incident.id
        )
        body = Group(
            head, Text(incident.summary), Text(labels, style="dim"), Text(status, style="dim")
        )
        self.console.print(
            Panel(
                body,
                title=Text(f"#alerts  Alertmanager  {_time(incident.starts_at)}"),
                title_align="left",
                border_style="red",
            )
        )

    def investigation(
        self, inv: Investigation, proposals: list[Proposal], plan: Plan | None = None
    ) -> None:
        self.console.print(diagnosis(diagnosis_view(inv, self.catalog, plan), proposals))

    def outcome(self, outcome: Outcome) -> None:
        p, result = outcome.proposal, outcome.result
        if p.status is ProposalStatus.REJECTED:
            text = messages.REJECTED_BY.format(user=p.decided_by, preview=p.preview)
            style = "red"
        elif result.status is ToolStatus.SUCCEEDED:
            when = _time(p.decided_at or 0)
            text = messages.APPROVED_BY.format(user=p.decided_by, when=when, summary=result.summary)
            style = "green"
        else:
            text = messages.DECISION_FAILED.format(
                preview=p.preview, status=result.status.value, summary=result.summary
            )
            style = "yellow"
        self.console.print(_reply("Medic", Text(text), style))

    def verification(self, v: Verification) -> None:
        lines = [Text(c.text, style="green" if c.recovered else "yellow") for c in v.checks]
        if v.note:
            lines.append(Text(v.note, style="yellow"))
        verdict = (messages.RECOVERED if v.recovered else messages.NOT_RECOVERED).capitalize()
        self.console.print(
            _reply(
                "Medic  " + messages.TERMINAL_VERIFICATION.format(verdict=verdict),
                Group(*lines),
                "green" if v.recovered else "yellow",
            )
        )

    def remembered(self, record: IncidentRecord) -> None:
        text = messages.REMEMBERED.format(id=record.id, outcome=record.outcome.replace("_", " "))
        self.console.print(_reply("Medic", Text(text)))

    def note(self, text: str) -> None:
        self.console.print(_reply("Medic", Text(text, style="yellow"), "yellow"))
