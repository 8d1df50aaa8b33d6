"""Diagnosis: ranked hypotheses about the cause, each with the evidence behind it.

Evidence comes from metric findings (a driver that moved first is the strongest), abnormal log
templates (those that name their cause outright, like an expired certificate, and those close in
meaning to a cause), the causes of similar past incidents, and later from what changed (recent
rollouts) and an optional LLM. It is combined per cause with a noisy-OR, so independent pieces of
evidence add up without exceeding 1. A cause whose tell-tale metric was measured and found normal
is marked down: memory or an opinion alone must not outvote the data. When even the best score is
low, the honest answer is "no clear cause".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from bot.diagnosis.signals import Glossary
from detectors import Finding
from knowledge.records import SimilarIncident
from knowledge.templates import TemplateStat, readable

# Weights of single pieces of evidence (probabilities in the noisy-OR).
DRIVER_WEIGHT = 0.55
RESOURCE_WEIGHT = 0.35
CONSEQUENCE_DISCOUNT = 0.6  # a resource moving alongside a driver is more likely its consequence
PRECEDES_SYMPTOM = 0.1
EARLIEST = 0.1
MEMORY_WEIGHT = 0.5
LOG_WEIGHT = 0.2
LOG_MIN_RELATEDNESS = 0.3
SIGNATURE_WEIGHT = 0.5  # a log message that names its cause; +0.1 if new, +0.1 if an error
CONTRADICTED = 0.3
SAME_TIME = 60.0  # seconds within which two changes count as simultaneous
CLEAR_CAUSE = 0.35  # below this best score, the answer is "no clear cause"
ERROR_LEVELS = frozenset({"ERROR", "FATAL", "CRITICAL"})

Relatedness = Callable[[Sequence[str], Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Evidence:
    kind: Literal["metric", "logs", "memory", "change", "llm", "model", "event", "against"]
    text: str
    weight: float


@dataclass
class Hypothesis:
    cause: str
    title: str
    summary: str = ""
    score: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.title}: {self.summary}" if self.summary else self.title


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def diagnose(
    findings: Sequence[Finding],
    templates: Sequence[TemplateStat],
    similar: Sequence[SimilarIncident],
    catalog: Glossary,
    *,
    measured_metrics: set[str],
    relatedness: Relatedness | None = None,
    min_similarity: float = 0.45,
) -> list[Hypothesis]:
    """Hypotheses ranked by score; empty when nothing points anywhere."""
    board = _Board(catalog)
    _metric_evidence(board, findings, catalog)
    _memory_evidence(board, similar, min_similarity)
    named = _signature_evidence(board, templates, catalog)
    if relatedness is not None:
        others = [t for t in templates if t.template not in named]
        _log_evidence(board, others, catalog, relatedness)
    return _ranked(board, catalog, measured_metrics)


def add_evidence(
    hypotheses: Sequence[Hypothesis],
    items: Iterable[tuple[str, Evidence, str]],
    catalog: Glossary,
    *,
    measured_metrics: set[str],
) -> list[Hypothesis]:
    """The hypotheses with more evidence - (cause, evidence, summary) - scored again and
    re-ranked, as new values (those given are left as they were)."""
    board = _Board(catalog)
    board.update({h.cause: replace(h, evidence=list(h.evidence)) for h in hypotheses})
    for cause, evidence, summary in items:
        h = board.of(cause)
        if evidence.weight > max((e.weight for e in h.evidence), default=0.0):
            h.summary = summary  # the strongest piece of evidence sums the hypothesis up
        h.evidence.append(evidence)
    return _ranked(board, catalog, measured_metrics)


def replace_memory_evidence(
    hypotheses: Sequence[Hypothesis],
    similar: Sequence[SimilarIncident],
    catalog: Glossary,
    *,
    measured_metrics: set[str],
    min_similarity: float,
) -> list[Hypothesis]:
    """The hypotheses with their memory evidence taken again from ``similar`` (e.g. after people
    corrected the cause of a past incident); a hypothesis left without evidence goes."""
    board = _Board(catalog)
    for h in hypotheses:
        kept = [e for e in h.evidence if e.kind not in ("memory", "against")]
        if kept:
            board[h.cause] = Hypothesis(h.cause, h.title, h.summary, h.score, kept)
    _memory_evidence(board, similar, min_similarity)
    return _ranked(board, catalog, measured_metrics)


def clear_cause(hypotheses: Sequence[Hypothesis]) -> Hypothesis | None:
    """The best hypothesis when the evidence for it is strong enough to say so; otherwise None."""
    if hypotheses and hypotheses[0].score >= CLEAR_CAUSE:
        return hypotheses[0]
    return None


def anomaly_start(findings: Sequence[Finding], catalog: Glossary) -> float | None:
    """When the first metric began to move the wrong way."""
    return min((f.start for f in findings if catalog.is_bad(f)), default=None)


def _ranked(board: _Board, catalog: Glossary, measured_metrics: set[str]) -> list[Hypothesis]:
    for h in board.values():
        h.evidence = [e for e in h.evidence if e.kind != "against"]
        h.score = 1.0 - float(np.prod([1.0 - e.weight for e in h.evidence]))
        signal = catalog.signal_for_cause(h.cause)
        measured_normal = signal is not None and signal.metric in measured_metrics
        if measured_normal and not any(e.kind == "metric" for e in h.evidence):
            assert signal is not None
            h.evidence.append(Evidence("against", f"{signal.description} is normal", 0.0))
            h.score *= CONTRADICTED
        h.score = round(h.score, 3)
    return sorted(board.values(), key=lambda h: h.score, reverse=True)


class _Board(dict[str, Hypothesis]):
    """Hypotheses by cause, created on first evidence."""

    def __init__(self, catalog: Glossary) -> None:
        super().__init__()
        self._catalog = catalog

    def of(self, cause: str) -> Hypothesis:
        if cause not in self:
            self[cause] = Hypothesis(cause=cause, title=self._catalog.cause(cause).title)
        return self[cause]


def _metric_evidence(board: _Board, findings: Sequence[Finding], catalog: Glossary) -> None:
    bad = [f for f in findings if catalog.is_bad(f)]
    kinds = {f.key: s.kind for f in bad if (s := catalog.signal(f.metric))}
    symptom_start = min((f.start for f in bad if kinds.get(f.key) == "symptom"), default=None)
    causal = [f for f in bad if (s := catalog.signal(f.metric)) and s.cause]
    earliest = min((f.start for f in causal), default=None)
    driver_starts = [f.start for f in causal if kinds.get(f.key) == "driver"]
    for f in causal:
        signal = catalog.signal(f.metric)
        assert signal is not None and signal.cause is not None
        weight = (DRIVER_WEIGHT if signal.kind == "driver" else RESOURCE_WEIGHT) * f.confidence
        if signal.kind == "resource" and any(d <= f.start + SAME_TIME for d in driver_starts):
            weight *= CONSEQUENCE_DISCOUNT
        text = f"{catalog.describe(f)} from {_clock(f.start)}"
        if symptom_start is not None and f.start <= symptom_start + SAME_TIME:
            weight += PRECEDES_SYMPTOM
            lead = symptom_start - f.start
            text += (
                f", {lead:.0f} s before the symptoms"
                if lead >= SAME_TIME / 4
                else (", as symptoms began")
            )
        if earliest is not None and f.start <= earliest + SAME_TIME / 4:
            weight += EARLIEST
            text += " (earliest change)"
        h = board.of(signal.cause)
        h.evidence.append(Evidence("metric", text, min(weight, 0.95)))
        h.summary = h.summary or catalog.describe(f)


def _memory_evidence(
    board: _Board, similar: Sequence[SimilarIncident], min_similarity: float
) -> None:
    for match in similar:
        if match.similarity < min_similarity:
            continue
        record = match.record
        fixed = ", ".join(r.describe() for r in record.remediation) or "no recorded action"
        outcome = record.outcome.replace("_", " ")
        text = f"{record.id} ({match.similarity:.2f} similar): {record.title} - {fixed} ({outcome})"
        h = board.of(record.cause)
        h.evidence.append(Evidence("memory", text, MEMORY_WEIGHT * match.similarity))
        h.summary = h.summary or f"as in {record.id}, {record.title[0].lower()}{record.title[1:]}"


def _signature_evidence(
    board: _Board, templates: Sequence[TemplateStat], catalog: Glossary
) -> set[str]:
    """Evidence from templates that name their cause; returns the templates used."""
    named: set[str] = set()
    for stat in templates:
        for cause in catalog.causes_named_by(stat.template):
            weight = SIGNATURE_WEIGHT + 0.1 * stat.is_new + 0.1 * (stat.level in ERROR_LEVELS)
            text = f"{stat.change} log template: {stat.template} ({stat.current_rate:.1f}/min)"
            h = board.of(cause)
            h.evidence.append(Evidence("logs", text, weight))
            h.summary = h.summary or catalog.cause(cause).description
            named.add(stat.template)
    return named


def _log_evidence(
    board: _Board,
    templates: Sequence[TemplateStat],
    catalog: Glossary,
    relatedness: Relatedness,
) -> None:
    """Attach each abnormal template to the cause whose description it is closest to in meaning."""
    if not templates or not board:
        return
    causes = list(board)
    descriptions = [f"{catalog.cause(c).title}: {catalog.cause(c).description}" for c in causes]
    scores = relatedness([readable(t.template) for t in templates], descriptions)
    for stat, row in zip(templates, scores, strict=True):
        best = int(np.argmax(row))
        if row[best] >= LOG_MIN_RELATEDNESS:
            text = f"{stat.change} log template: {stat.template} ({stat.current_rate:.1f}/min)"
            board[causes[best]].evidence.append(
                Evidence("logs", text, LOG_WEIGHT * float(row[best]))
            )
