"""An incident's evidence as numbered items (E1, E2, ...) for a language model: Medic's own
measurements and conclusions as plain text, anything people or programs outside Medic wrote (log
lines, alert labels and annotations - names included -, rollout annotations, postmortems)
delimited and labelled as data, one line each (:func:`bot.untrusted.as_data`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.diagnosis.changes import Change
from bot.diagnosis.hypotheses import Hypothesis
from bot.diagnosis.signals import Glossary
from bot.untrusted import as_data
from detectors import Finding
from knowledge.records import SimilarIncident
from knowledge.templates import TemplateStat

MAX_ANNOTATIONS = 20  # an alert's annotations a model is shown, each at most one data line


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    text: str  # already delimited when untrusted


def evidence_items(
    *,
    findings: Sequence[Finding],
    hypotheses: Sequence[Hypothesis],
    templates: Sequence[TemplateStat],
    changes: Sequence[Change],
    similar: Sequence[SimilarIncident],
    annotations: Mapping[str, str],
    catalog: Glossary,
) -> list[Item]:
    raw: list[tuple[str, str]] = []
    raw += [("metric", f"{catalog.describe(f)}, since {f.start:.0f}") for f in findings]
    raw += [
        ("log template", f"{t.change} ({t.current_rate:.1f}/min): " + as_data("log", t.example))
        for t in templates[:12]
    ]
    raw += [
        (
            "rollout",
            f"{c.service} rev {c.revision} at {c.at:.0f} ({c.kind} change, live={c.live})"
            + (": " + as_data("rollout annotation", f"{c.what}; {c.change_cause}")),
        )
        for c in changes
    ]
    raw += [
        (
            "similar incident",
            f"{m.record.id} ({m.similarity:.2f} similar, cause {m.record.cause}, outcome "
            f"{m.record.outcome}, fixed by "
            f"{', '.join(r.describe() for r in m.record.remediation) or 'nothing recorded'}): "
            + as_data("postmortem", f"{m.record.title}. {m.record.root_cause}"),
        )
        for m in similar
    ]
    raw += [
        ("alert annotation", as_data("alert annotation", f"{k}: {v}"))
        for k, v in list(annotations.items())[:MAX_ANNOTATIONS]
    ]
    raw += [
        ("medic hypothesis", f"{h.cause} ({h.title}) score {h.score:.2f}") for h in hypotheses[:5]
    ]
    return [Item(f"E{i}", kind, text) for i, (kind, text) in enumerate(raw, 1)]


def render(items: Sequence[Item]) -> str:
    return "\n".join(f"{i.id} [{i.kind}] {i.text}" for i in items) or "(none)"


def alert_data(namespace: str, service: str, summary: str, labels: Mapping[str, str]) -> str:
    """What the alert says about itself - its workload, summary and labels - as untrusted data:
    the workload was named by the alert, so even it stays inside the data section."""
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return "\n".join(
        [
            "- workload (namespace/name): " + as_data("alert", f"{namespace}/{service}"),
            "- summary: " + as_data("alert", summary),
            "- labels: " + as_data("alert", shown),
        ]
    )
