"""The diagnosis in the thread: a :class:`~bot.views.DiagnosisView` laid out as Block Kit.

Which items are shown, and how many, is the view's business (``bot.views``); here they only
become mrkdwn. The head never changes once posted; the proposals under it do
(``bot.slack.blocks.proposals``).
"""

from __future__ import annotations

from bot import messages
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.model_views import ModelView, model_lines
from bot.origin_views import OriginsView
from bot.planners.combine import Plan
from bot.slack.blocks.elements import context, phrase, section, slack_time
from bot.slack.limits import Block
from bot.slack.mrkdwn import Mrkdwn, joined, markup
from bot.views import DiagnosisView, PlanView, diagnosis_view


def _heading(title: str, body: Mrkdwn) -> Block:
    return section(markup("*{}*\n{}", title, body))


def _findings(view: DiagnosisView) -> Mrkdwn:
    if not view.findings:
        return markup(messages.NO_FINDINGS)
    lines = [
        markup(
            "• {} since {}, confidence {:.2f}{}",
            f.sentence,
            slack_time(f.since),
            f.confidence,
            markup(" - {}", f.explained) if f.explained else Mrkdwn(""),
        )
        for f in view.findings
    ]
    if view.more_findings:
        lines.append(markup("• " + messages.AND_MORE, count=view.more_findings))
    return joined("\n", lines)


def _templates(view: DiagnosisView) -> Mrkdwn:
    if not view.templates:
        return markup(messages.NO_TEMPLATES)
    return joined(
        "\n",
        (markup("• [{}] `{}` ({:.1f}/min)", t.change, t.template, t.rate) for t in view.templates),
    )


def _hypotheses(view: DiagnosisView) -> list[Block]:
    if not view.hypotheses:
        return [section(markup(messages.NO_HYPOTHESIS))]
    blocks = []
    if view.likely is None:
        blocks.append(section(markup(":grey_question: {}", messages.NO_CLEAR_CAUSE)))
    for h in view.hypotheses:
        blocks.append(section(markup("*{}. {}* - score {:.2f}", h.rank, h.text, h.score)))
        evidence = [
            markup("{}{}: {}", Mrkdwn(":warning: " if e.against else ""), e.kind, e.text)
            for e in h.evidence
        ]
        if evidence:
            blocks.append(context(joined("\n", evidence)))
    return blocks


def _origins(origins: OriginsView) -> list[Block]:
    """Where it started: the headline, then each shown candidate's facts and evidence."""
    blocks = [_heading(messages.HEADING_ORIGIN, phrase(origins.headline))]
    for o in origins.ranked:
        facts = joined("; ", (phrase(f) for f in o.facts))
        lines = [markup("*{}. {}* - score {:.2f}; {}", o.rank, o.service, o.score, facts)]
        lines += [markup("• {}", e) for e in o.evidence]
        blocks.append(context(joined("\n", lines)))
    more = [markup(messages.AND_MORE, count=origins.more)] if origins.more else []
    blocks.append(context(*more, phrase(origins.looked_at)))
    return blocks


def _model(model: ModelView) -> Mrkdwn:
    return joined(
        "\n",
        (
            markup("{}• {}", "    " * depth, phrase(p)) if depth else phrase(p)
            for depth, p in model_lines(model)
        ),
    )


def _similar(view: DiagnosisView) -> Mrkdwn:
    if not view.similar:
        return markup(messages.NO_SIMILAR)
    return joined(
        "\n",
        (
            markup(
                "• *{}* ({:.2f}) {}{}\n   fixed by: {} -> {}; matched on {}",
                s.id,
                s.similarity,
                messages.SIMILAR_WEAK if s.weak else "",
                s.title,
                s.fixed_by,
                s.outcome,
                s.why,
            )
            for s in view.similar
        ),
    )


def _bullets(title: str, lines: tuple[str, ...]) -> Block:
    return _heading(title, joined("\n", (markup("• {}", line) for line in lines)))


def _plan(plan: PlanView | None) -> tuple[list[Block], list[Block]]:
    """What the plan adds around the proposals: (the diagnostic steps run and the advice for a
    human, before them; which planners ran and how, under their heading)."""
    if plan is None:
        return [], []
    before = []
    if plan.checked:
        before.append(_bullets(messages.HEADING_CHECKED, plan.checked))
    if plan.advice:
        before.append(_bullets(messages.HEADING_ADVICE, plan.advice))
    planners = (
        [context(markup(messages.PLANNED_BY, planners=", ".join(plan.planners)))]
        if plan.planners
        else []
    )
    return before, planners


def diagnosis_blocks(incident: Incident, view: DiagnosisView) -> tuple[Mrkdwn, list[Block]]:
    """The head of the diagnosis for ``view``: (fallback text, blocks)."""
    text = markup(
        messages.DIAGNOSIS_SUMMARY,
        incident=incident.id,
        service=incident.service,
        count=view.abnormal,
        cause=view.likely or messages.NO_CLEAR_CAUSE_SHORT,
    )
    if view.origins is not None and view.origins.elsewhere:
        origin = markup(messages.DIAGNOSIS_SUMMARY_ORIGIN, origin=view.origins.origin.service)
        text = joined("", (text, origin))
    blocks: list[Block] = [
        section(
            markup(
                messages.SLACK_DIAGNOSIS_HEAD,
                incident=incident.id,
                service=incident.service,
                namespace=incident.namespace,
                series=view.series,
                seconds=view.seconds,
            )
        )
    ]
    w = view.window
    blocks.append(
        context(
            markup(
                messages.WINDOW_USED,
                start=slack_time(w.start),
                end=slack_time(w.end),
                baseline_start=slack_time(w.baseline_start),
                why=w.why,
            )
        )
    )
    if view.notes:
        blocks.append(context(*(markup(":warning: {}", n) for n in view.notes)))
    if view.origins is not None:
        blocks.extend(_origins(view.origins))
    blocks.append(_heading(messages.HEADING_ABNORMAL, _findings(view)))
    if view.outlook:
        outlook = joined("\n", (markup("• {}", line) for line in view.outlook))
        blocks.append(_heading(messages.HEADING_OUTLOOK, outlook))
    if view.model is not None:
        blocks.append(_heading(messages.HEADING_MODEL, _model(view.model)))
    blocks.append(_heading(messages.HEADING_LOGS, _templates(view)))
    blocks.append(section(markup("*{}*", messages.HEADING_CAUSES)))
    blocks.extend(_hypotheses(view))
    blocks.append(_heading(messages.HEADING_SIMILAR, _similar(view)))
    before, planners = _plan(view.plan)
    blocks.extend(before)
    blocks.append({"type": "divider"})
    blocks.append(section(markup("*{}*", messages.HEADING_PROPOSALS)))
    blocks.extend(planners)
    return text, blocks


def diagnosis_head(
    incident: Incident, inv: Investigation, catalog: Glossary, plan: Plan | None = None
) -> tuple[Mrkdwn, list[Block]]:
    """The part of the diagnosis that never changes: (fallback text, blocks). With the ``plan``:
    the runbooks' diagnostic steps, advice for a human and which planners ran (the dropped
    proposals and the planners' notes are among the investigation's notes)."""
    return diagnosis_blocks(incident, diagnosis_view(inv, catalog, plan))
