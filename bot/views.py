"""What the alert's thread shows about a diagnosis, as plain immutable data.

Slack (``bot.slack.blocks``) and the terminal (``bot.cli.render``) show the same sections - where
it started (``bot.origin_views``), what is abnormal, what is coming, what the logs say, likely
causes with their evidence, similar past incidents, the plan - and used to pick and cut the items
each on its own, so the two could disagree on what was shown. :func:`diagnosis_view` picks them
once, with the caps below, and each renderer only lays the view out and escapes it for its medium
(Slack's mrkdwn, rich's markup). Nothing here is markup: every string is data or Medic's plain
words.

Proposals and verifications are rendered from :class:`tools.proposals.Proposal` and
:class:`bot.diagnosis.verification.Verification` themselves: both are plain values already and
no cap applies to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.diagnosis.hypotheses import clear_cause
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary, format_value
from bot.diagnosis.verification import Verification
from bot.model_views import ModelView, model_view
from bot.origin_views import OriginsView, origins_view
from bot.planners.combine import Plan
from detectors import Finding

MAX_FINDINGS = 8  # the rest is counted ("and 3 more"); the thread is read on a phone too
MAX_TEMPLATES = 6
MAX_HYPOTHESES = 4
MAX_EVIDENCE = 4  # per hypothesis
MAX_NOTES = 10  # a Block Kit context holds at most 10 elements, one note each


@dataclass(frozen=True)
class WindowView:
    """The stretch of time judged: baseline [baseline_start, start) against [start, end), and
    how the start was chosen, in words."""

    baseline_start: float
    start: float
    end: float
    why: str


@dataclass(frozen=True)
class FindingView:
    """One abnormal metric: Slack shows it as ``sentence``, the terminal as a table row."""

    name: str  # 'p95 latency' (the metric's description, or its key when the catalog lacks it)
    sentence: str  # 'p95 latency up 3.2x (170 ms -> 540 ms)'
    since: float  # when it began, epoch seconds
    baseline: str  # formatted in the metric's unit
    observed: str
    change: str  # 'up 3.2x'
    confidence: float
    explained: str  # 'explained by pod=b 92%, pod=a 8%', or '' without breakdowns


@dataclass(frozen=True)
class TemplateView:
    change: str  # 'new', 'up', ...
    template: str
    rate: float  # per minute, in the suspect window


@dataclass(frozen=True)
class EvidenceView:
    kind: str  # 'metric', 'logs', 'memory', 'change', 'llm' or 'against'
    text: str

    @property
    def against(self) -> bool:
        return self.kind == "against"


@dataclass(frozen=True)
class HypothesisView:
    rank: int
    text: str
    score: float
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True)
class SimilarView:
    """A past incident close to this one: what it was, what fixed it, why it matched."""

    id: str
    similarity: float
    title: str
    fixed_by: str  # the remediation, '-' when none was recorded
    outcome: str  # 'resolved', 'not resolved', ...
    why: str
    weak: bool = False  # below the similarity threshold: listed, not used in the diagnosis


@dataclass(frozen=True)
class PlanView:
    checked: tuple[str, ...]  # what the runbooks' diagnostic steps answered
    advice: tuple[str, ...]  # steps for a human
    planners: tuple[str, ...]  # which planners ran, and how


@dataclass(frozen=True)
class DiagnosisView:
    """Everything the thread shows of one investigation, the caps applied."""

    incident_id: str
    series: int  # how many series were read
    seconds: float  # how long the investigation took
    window: WindowView
    notes: tuple[str, ...]
    findings: tuple[FindingView, ...]
    more_findings: int  # abnormal metrics beyond MAX_FINDINGS, counted but not shown
    outlook: tuple[str, ...]  # forecasts, then drifts, in words
    templates: tuple[TemplateView, ...]
    hypotheses: tuple[HypothesisView, ...]
    likely: str | None  # the clear cause's title, None when the evidence is too weak for one
    similar: tuple[SimilarView, ...]
    plan: PlanView | None
    origins: OriginsView | None = None  # None when the services around were not ranked
    model: ModelView | None = None  # None when the service serves no model

    @property
    def abnormal(self) -> int:
        """How many metrics are abnormal, shown or not."""
        return len(self.findings) + self.more_findings


def _finding(f: Finding, catalog: Glossary) -> FindingView:
    signal = catalog.signal(f.metric)
    unit = signal.unit if signal else "count"
    return FindingView(
        name=catalog.name(f),
        sentence=catalog.describe(f),
        since=f.start,
        baseline=format_value(f.baseline, unit),
        observed=format_value(f.observed, unit),
        change=f"{f.direction.value} {f.magnitude:.1f}x",
        confidence=f.confidence,
        explained=catalog.attribution_text(f),
    )


def diagnosis_view(
    inv: Investigation, catalog: Glossary, plan: Plan | None = None
) -> DiagnosisView:
    """The view of ``inv`` (and of the ``plan`` made from it, when there is one)."""
    best = clear_cause(inv.hypotheses)
    stats = inv.templates.abnormal if inv.templates else []
    return DiagnosisView(
        incident_id=inv.incident_id,
        series=len(inv.series),
        seconds=inv.seconds,
        window=WindowView(
            inv.window.baseline_start, inv.window.split, inv.window.end, inv.window.describe()
        ),
        notes=tuple(inv.notes[:MAX_NOTES]),
        findings=tuple(_finding(f, catalog) for f in inv.findings[:MAX_FINDINGS]),
        more_findings=max(0, len(inv.findings) - MAX_FINDINGS),
        outlook=tuple(catalog.outlook_text(f) for f in inv.forecasts + inv.drift),
        templates=tuple(
            TemplateView(s.change, s.template, s.current_rate) for s in stats[:MAX_TEMPLATES]
        ),
        hypotheses=tuple(
            HypothesisView(
                rank,
                h.text,
                h.score,
                tuple(EvidenceView(e.kind, e.text) for e in h.evidence[:MAX_EVIDENCE]),
            )
            for rank, h in enumerate(inv.hypotheses[:MAX_HYPOTHESES], 1)
        ),
        likely=best.title if best else None,
        similar=tuple(
            SimilarView(
                id=m.record.id,
                similarity=m.similarity,
                title=m.record.title,
                fixed_by=", ".join(x.describe() for x in m.record.remediation) or "-",
                outcome=m.record.outcome.replace("_", " "),
                why=m.explanation,
                weak=m.weak,
            )
            for m in inv.similar
        ),
        plan=None
        if plan is None
        else PlanView(tuple(plan.checked), tuple(plan.advice), tuple(plan.planners)),
        origins=origins_view(inv, catalog),
        model=model_view(inv.model)
        or model_view(inv.at_origin.model if inv.at_origin else None, at_origin=True),
    )


def short_check(text: str) -> str:
    """'p95 latency back to 180 ms' from a verification check's full sentence."""
    return text.split(" (", 1)[0]


def verification_summary(v: Verification) -> str:
    """What verification found, in one line: appended to the executed proposal's decision."""
    if v.checks:
        return "; ".join(short_check(c.text) for c in v.checks)
    return v.note
