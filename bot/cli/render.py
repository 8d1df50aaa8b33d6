"""The conversation on a terminal, laid out as it appears in the alert's Slack thread."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot import messages
from bot.alerts import AlertGroup
from bot.diagnosis.hypotheses import clear_cause
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary, format_value
from bot.diagnosis.verification import Verification
from bot.flow import Outcome
from bot.incidents import Incident
from bot.planners.combine import Plan
from knowledge.records import IncidentRecord
from tools.actions import ToolStatus
from tools.proposals import Proposal, ProposalStatus


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def _reply(title: str, body: RenderableType, style: str = "cyan") -> RenderableType:
    """A message in the thread: indented under the alert, like a Slack thread reply."""
    return Padding(Panel(body, title=title, title_align="left", border_style=style), (0, 0, 0, 4))


class ThreadPrinter:
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
        status = f"opened {incident.id}" if new else f"attached to open {incident.id}"
        body = Group(
            head, Text(incident.summary), Text(labels, style="dim"), Text(status, style="dim")
        )
        self.console.print(
            Panel(
                body,
                title=f"#alerts  Alertmanager  {_time(incident.starts_at)}",
                title_align="left",
                border_style="red",
            )
        )

    def investigation(
        self, inv: Investigation, proposals: list[Proposal], plan: Plan | None = None
    ) -> None:
        parts: list[RenderableType] = [
            Text(
                f"Investigated {len(inv.series)} series and the service's logs in "
                f"{inv.seconds:.2f} s.",
                style="dim",
            ),
        ]
        parts += [Text(f"! {note}", style="yellow") for note in inv.notes]
        parts += [Text("\nWhat is abnormal", style="bold"), self._findings(inv)]
        if inv.forecasts or inv.drift:
            parts += [Text("\nWhat is coming, what drifted", style="bold"), self._outlook(inv)]
        parts += [Text("\nWhat the logs say", style="bold"), self._templates(inv)]
        parts += [Text("\nLikely causes", style="bold"), self._hypotheses(inv)]
        parts += [Text("\nSimilar past incidents", style="bold"), self._similar(inv)]
        parts += [Text("\nProposed actions", style="bold"), self._proposals(proposals)]
        if plan is not None:
            parts += [Text(f"  planned by {', '.join(plan.planners)}", style="dim")]
            if plan.checked:
                parts += [Text("\nChecked", style="bold")]
                parts += [Text(f"  - {line}") for line in plan.checked]
            if plan.advice:
                parts += [Text("\nFor a human", style="bold")]
                parts += [Text(f"  - {advice}") for advice in plan.advice]
        self.console.print(_reply(f"Medic  {inv.incident_id}", Group(*parts)))

    def _findings(self, inv: Investigation) -> RenderableType:
        if not inv.findings:
            return Text(messages.NO_FINDINGS)
        table = Table(show_edge=False, pad_edge=False, box=None)
        for col in ("metric", "since", "baseline", "now", "change", "confidence"):
            table.add_column(col)
        for f in inv.findings:
            signal = self.catalog.signal(f.metric)
            unit = signal.unit if signal else "count"
            change = f"{f.direction.value} {f.magnitude:.1f}x"
            table.add_row(
                signal.description if signal else f.key,
                _time(f.start),
                format_value(f.baseline, unit),
                format_value(f.observed, unit),
                change,
                f"{f.confidence:.2f}",
            )
        explained = [
            Text(f"  {self.catalog.name(f)}: {self.catalog.attribution_text(f)}", style="dim")
            for f in inv.findings
            if f.attribution
        ]
        return Group(table, *explained) if explained else table

    def _outlook(self, inv: Investigation) -> RenderableType:
        return Group(
            *(Text(f"  {self.catalog.outlook_text(f)}") for f in inv.forecasts + inv.drift)
        )

    def _templates(self, inv: Investigation) -> RenderableType:
        stats = inv.templates.abnormal if inv.templates else []
        if not stats:
            return Text(messages.NO_TEMPLATES)
        lines = []
        for s in stats[:6]:
            lines.append(Text(f"  [{s.change:>4}] {s.template}  ({s.current_rate:.1f}/min)"))
        return Group(*lines)

    def _hypotheses(self, inv: Investigation) -> RenderableType:
        if not inv.hypotheses:
            return Text(messages.NO_HYPOTHESIS)
        lines: list[RenderableType] = []
        if clear_cause(inv.hypotheses) is None:
            lines.append(Text(messages.NO_CLEAR_CAUSE, style="yellow"))
        for rank, h in enumerate(inv.hypotheses[:4], 1):
            lines.append(
                Text.assemble((f"  {rank}. ", "bold"), (h.text, "bold"), f"  score {h.score:.2f}")
            )
            for e in h.evidence[:4]:
                lines.append(
                    Text(
                        f"       - {e.kind}: {e.text}",
                        style="dim" if e.kind != "against" else "yellow",
                    )
                )
        return Group(*lines)

    def _similar(self, inv: Investigation) -> RenderableType:
        if not inv.similar:
            return Text(messages.NO_SIMILAR)
        lines: list[RenderableType] = []
        for m in inv.similar:
            r = m.record
            fixed = ", ".join(x.describe() for x in r.remediation) or "-"
            lines.append(Text(f"  {r.id}  {m.similarity:.2f}  {r.title}"))
            lines.append(
                Text(f"       what was done: {fixed} -> {r.outcome.replace('_', ' ')}", style="dim")
            )
            lines.append(Text(f"       why it matched: {m.explanation}", style="dim"))
        return Group(*lines)

    def _proposals(self, proposals: list[Proposal]) -> RenderableType:
        if not proposals:
            return Text(messages.NO_PROPOSALS)
        lines: list[RenderableType] = []
        for rank, p in enumerate(proposals, 1):
            if p.status is ProposalStatus.REFUSED:
                lines.append(
                    Text(
                        f"  {rank}. {p.action.tool} {p.action.target} {p.action.params}"
                        f"  {p.refusal}",
                        style="yellow",
                    )
                )
                continue
            lines.append(
                Text.assemble(
                    f"  {rank}. ",
                    (p.preview, "bold"),
                    "   ",
                    ("[Approve]", "bold green"),
                    " ",
                    ("[Reject]", "bold red"),
                )
            )
            lines.append(Text(f"       why: {p.rationale}", style="dim"))
            lines.append(Text(f"       source: {p.source}", style="dim"))
        return Group(*lines)

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
        verdict = "Recovered" if v.recovered else "Not recovered"
        self.console.print(
            _reply(
                f"Medic  verification: {verdict}",
                Group(*lines),
                "green" if v.recovered else "yellow",
            )
        )

    def remembered(self, record: IncidentRecord) -> None:
        text = messages.REMEMBERED.format(id=record.id, outcome=record.outcome.replace("_", " "))
        self.console.print(_reply("Medic", Text(text)))

    def note(self, text: str) -> None:
        self.console.print(_reply("Medic", Text(text, style="yellow"), "yellow"))
