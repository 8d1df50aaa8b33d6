"""How alike a past incident is to the current one, and why: pure scoring, no storage.

A match combines four things, each in [0, 1]:
- the meaning of the incident text (embedding similarity, from the store),
- shared abnormal log templates, each weighted by how rare it is in the memory (a template every
  incident has says nothing; one only two incidents share says a lot),
- the same service (and namespace),
- the same families of abnormal metrics (CPU, latency, errors, ...; ``knowledge.vocabulary``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from knowledge.records import IncidentRecord, SimilarIncident
from knowledge.templates import is_error, readable
from knowledge.vocabulary import default_vocabulary

WEIGHT_EMBEDDING = 0.35
WEIGHT_TEMPLATES = 0.30
WEIGHT_SERVICE = 0.20
WEIGHT_METRICS = 0.10
WEIGHT_NAMESPACE = 0.05
TEMPLATE_MATCH = 0.6  # token Jaccard at which two templates count as the same
SHOWN_TEMPLATES = 3
_WORD = re.compile(r"[a-z][a-z0-9_-]+")


@dataclass(frozen=True)
class Query:
    """The current incident as the memory sees it."""

    service: str
    templates: Sequence[str]
    metrics: Sequence[str] = ()
    namespace: str | None = None


def metric_family(name: str) -> str:
    """``CpuUsageRate(%)`` and ``cpu_utilization`` are both ``cpu``; unknown names stay. The
    families are data, in ``knowledge/vocabulary.yaml``."""
    return default_vocabulary().family(name)


class TemplateRarity:
    """Inverse document frequency of templates over the remembered incidents."""

    def __init__(self, documents: Iterable[Sequence[str]] = ()) -> None:
        self._frequency: Counter[str] = Counter()
        self._documents = 0
        for templates in documents:
            self.add(templates)

    def add(self, templates: Sequence[str]) -> None:
        self._documents += 1
        self._frequency.update(set(templates))

    def weight(self, template: str) -> float:
        return math.log(1.0 + (self._documents + 1) / (self._frequency[template] + 1))


def _tokens(template: str) -> frozenset[str]:
    return frozenset(_WORD.findall(readable(template).lower()))


def shared_templates(current: Sequence[str], past: Sequence[str]) -> list[str]:
    """The current templates that also occurred in a past incident (fuzzy: token Jaccard)."""
    past_set = set(past)
    past_tokens = [_tokens(t) for t in past]
    shared = []
    for template in current:
        if template in past_set:
            shared.append(template)
            continue
        mine = _tokens(template)
        for theirs in past_tokens:
            union = mine | theirs
            if union and len(mine & theirs) / len(union) >= TEMPLATE_MATCH:
                shared.append(template)
                break
    return shared


def template_similarity(
    current: Sequence[str], past: Sequence[str], rarity: TemplateRarity
) -> tuple[float, list[str]]:
    """Cosine of the two template sets weighted by rarity; and the shared templates, rarest
    first."""
    current, past = list(dict.fromkeys(current)), list(dict.fromkeys(past))
    if not current or not past:
        return 0.0, []
    shared = shared_templates(current, past)
    mass = sum(rarity.weight(t) for t in shared)
    norm = math.sqrt(sum(rarity.weight(t) for t in current) * sum(rarity.weight(t) for t in past))
    shared.sort(key=lambda t: -rarity.weight(t))
    return (min(1.0, mass / norm) if norm else 0.0), shared


def metric_similarity(current: Sequence[str], past: Sequence[str]) -> float:
    """Jaccard of the metric families; 0 when either side has none."""
    mine, theirs = {metric_family(m) for m in current}, {metric_family(m) for m in past}
    return len(mine & theirs) / len(mine | theirs) if mine and theirs else 0.0


def score_match(
    record: IncidentRecord, embedding: float, query: Query, rarity: TemplateRarity
) -> SimilarIncident:
    """Combine embedding similarity, rare shared templates, place and metric families into one
    score, and say why."""
    templates, shared = template_similarity(query.templates, record.templates, rarity)
    metrics = metric_similarity(query.metrics, record.abnormal_metrics)
    same_service = record.service == query.service
    same_namespace = query.namespace is not None and record.namespace == query.namespace
    score = (
        WEIGHT_EMBEDDING * max(0.0, embedding)
        + WEIGHT_TEMPLATES * templates
        + WEIGHT_SERVICE * same_service
        + WEIGHT_METRICS * metrics
        + WEIGHT_NAMESPACE * same_namespace
    )
    reasons = [f"text similarity {embedding:.2f}"]
    if query.templates:
        distinct = list(dict.fromkeys(query.templates))
        kind = "error templates" if all(is_error(t) for t in distinct) else "abnormal log templates"
        shown = "; ".join(shared[:SHOWN_TEMPLATES]) + (
            "; ..." if len(shared) > SHOWN_TEMPLATES else ""
        )
        reasons.append(
            f"shares {len(shared)} of {len(distinct)} {kind}" + (f": {shown}" if shared else "")
        )
    if metrics:
        families = sorted(
            {metric_family(m) for m in query.metrics}
            & {metric_family(m) for m in record.abnormal_metrics}
        )
        reasons.append(f"same abnormal metrics ({', '.join(families)})")
    if same_service:
        reasons.append(f"same service ({query.service})")
    if same_namespace:
        reasons.append(f"same namespace ({query.namespace})")
    return SimilarIncident(
        record=record,
        similarity=round(min(1.0, score), 4),
        embedding_similarity=round(embedding, 4),
        shared_templates=shared,
        explanation="; ".join(reasons),
    )
