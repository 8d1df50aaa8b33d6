"""How alike a past incident is to the current one, and why: pure scoring, no storage.

A match combines seven parts, each in [0, 1]:
- the meaning of the incident text (embedding similarity, from the store),
- shared abnormal log templates, each weighted by how rare it is in the memory (a template every
  incident has says nothing; one only two incidents share says a lot),
- the place: how strongly the past incident's confirmed service is suspected now. The ranking's
  top few suspects count by their score relative to the leader, not the leader alone, because the
  leader is often a victim of the cause (network delays on held-out data: 3 of 14 first),
- the same families of abnormal metrics (CPU, latency, errors, ...; ``knowledge.vocabulary``),
- the same kinds of evidence against the same services (the evidence profile: which channel
  implicated which service, how strongly). A fault leaves the same pattern in its neighbours even
  when the ranking blames one of them, and even when the exact log templates differ,
- the same mix of evidence around it without the services' names (the profile's shape): the
  same fault on differently named services, or the cause silent and its callers slowed,
- the same namespace.

The parts add up with ``WEIGHTS``, derived from ``CHOSEN``: the protocol's choice, which the
benchmark reads as the shipped default. The retrieval order then keeps every ``TEXT_SLOT``-th place
for the best remaining match by its description alone (``slotted_order``): the place and the
evidence profile both lean on the ranking's suspects, and when the cause is silent (it logs
nothing new, the ranking blames its victims) they agree on the wrong incidents; the text of an
alike incident still reads alike; and the place after each text place for the best remaining
match by the evidence profile of every ranked service (the whole neighbourhood, not the leaders):
with the cause silent its leaders are victims, but the services around it show what they showed
the last time. What a person sees (``shown``) is the first few of that order
listed by the similarity shown beside each, since a reader takes the order as confidence; a
match listed only for its text says so. ``benchmarks/generalization/similar.py`` decides which parts
and weights stay by nested validation (docs/benchmarks.md, "Similar incidents").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from knowledge.ranking import RankedCause
from knowledge.records import IncidentRecord, SimilarIncident
from knowledge.templates import is_error, readable
from knowledge.vocabulary import default_vocabulary

TEMPLATE_MATCH = 0.6  # token Jaccard at which two templates count as the same
SHOWN_TEMPLATES = 3
RAISED = "shown this high for its text: described most like this incident of the rest"
LISTED_FOR_TEXT = "listed for its text: described most like this incident of the rest, though {}"
RAISED_AROUND = (
    "shown this high for the evidence around it: the services the ranking weighed showed the"
    " most alike evidence of the rest"
)
LISTED_FOR_AROUND = (
    "listed for the evidence around it: the services the ranking weighed showed the most alike"
    " evidence of the rest ({around:.2f}), though {{}}"
)
LEFT_OUT_ONE = "a match scoring {best:.2f} is not listed"
LEFT_OUT_MANY = "{count} matches scoring up to {best:.2f} are not listed"
_WORD = re.compile(r"[a-z][a-z0-9_-]+")


@dataclass(frozen=True)
class Weights:
    """How much each part of a match counts. A part that cannot be judged (no namespace given,
    no evidence profile on one side) is left out and the others share its weight, so a match is
    in [0, 1] whichever parts are known."""

    text: float
    templates: float
    place: float
    metrics: float
    evidence: float
    namespace: float
    shape: float = 0.0

    def combine(self, parts: MatchParts) -> float:
        pairs = [
            (self.text, parts.text),
            (self.templates, parts.templates),
            (self.place, parts.place),
            (self.metrics, parts.metrics),
            (self.evidence, parts.evidence),
            (self.namespace, parts.namespace),
            (self.shape, parts.shape),
        ]
        known = [(w, p) for w, p in pairs if p is not None]
        total = sum(w for w, _ in known)
        return sum(w * p for w, p in known) / total if total else 0.0


# issue 4's weights, fitted by hand on the development split (the place was "same service as
# the suspect", and there was no evidence profile)
ISSUE4_WEIGHTS = Weights(0.35, 0.30, 0.20, 0.10, 0.0, 0.05)


@dataclass(frozen=True)
class Choice:
    """A way of scoring and ordering matches, in the terms the protocol chooses among
    (``benchmarks/generalization/similar.py``: its candidates are built from these fields and
    its "shipped default" is ``CHOSEN``), so the live scoring and what the protocol measured
    are one setting and cannot drift apart.

    ``equal``: every part the same weight, else issue 4's hand weights scaled to make room for
    the added parts; ``suspects``: the place is the ranking's top ``width`` suspects by their
    score relative to the leader's, else only the suspect; ``evidence``: the evidence profile
    of the top ``width`` services as a part (an equal share); ``shape``: that profile without
    the services' names (``profile_shape``) as a part (an equal share): a fault leaves the same
    mix of evidence around it whichever services it hits; ``text_slot``: every
    ``text_slot``-th place of the order to the best remaining match by text alone (0: none);
    ``neighbourhood``: the place after each text place to the best remaining match by the
    evidence profile of every ranked service."""

    equal: bool
    suspects: bool
    evidence: bool
    shape: bool
    width: int
    text_slot: int
    neighbourhood: bool

    @property
    def weights(self) -> Weights:
        """Each added part (the evidence profile, then the shape) takes an equal share,
        ``1 / parts``, and what was there before keeps the rest in its proportions; with
        ``equal`` every part has that share. The namespace, which the Nezha evaluation cannot
        judge (one namespace), keeps issue 4's small share as a tie-breaker."""
        return self.weights_among(4 + self.evidence + self.shape)

    def weights_among(self, parts: int) -> Weights:
        """``weights`` when ``parts`` parts share them (the benchmark adds tried parts that are
        not here, each with the same share)."""
        share = 1.0 / parts
        base = ISSUE4_WEIGHTS
        if self.equal:
            even = share
            return Weights(
                even,
                even,
                even,
                even,
                even if self.evidence else 0.0,
                base.namespace,
                even if self.shape else 0.0,
            )
        weights = Weights(base.text, base.templates, base.place, base.metrics, 0.0, base.namespace)
        for added, name in ((self.evidence, "evidence"), (self.shape, "shape")):
            if added:
                weights = _make_room(weights, name, share)
        return weights


def _make_room(weights: Weights, part: str, share: float) -> Weights:
    """``weights`` scaled by ``1 - share``, and ``part`` given ``share``."""
    scaled = {k: v * (1.0 - share) for k, v in asdict(weights).items()}
    scaled[part] = share
    return Weights(**scaled)


# the protocol's choice (docs/benchmarks.md, "Similar incidents", fourth pass): forward selection
# from issue 4's scoring kept the top 3 suspects, the evidence profile, the neighbourhood's shape,
# a place for the text every second place and one for every ranked service's profile after it;
# equal weights, wider profiles, the kind of evidence and the call graph were dropped
CHOSEN = Choice(
    equal=False,
    suspects=True,
    evidence=True,
    shape=True,
    width=3,
    text_slot=2,
    neighbourhood=True,
)
WEIGHTS = CHOSEN.weights
# how many top-ranked services give the suspects, the evidence profile and its shape
PROFILE_WIDTH = CHOSEN.width
TEXT_SLOT = CHOSEN.text_slot


@dataclass(frozen=True)
class Query:
    """The current incident as the memory sees it.

    ``suspects``: the ranking's top services, each by its score relative to the leader's (1.0);
    without them the ``service`` is the only suspect. ``evidence``: the evidence profile,
    ``evidence_key(service, channel)`` -> strength (``evidence_profile``) of the top
    ``PROFILE_WIDTH``; ``neighbourhood``: the same of every ranked service (``slotted_order``)."""

    service: str
    templates: Sequence[str]
    metrics: Sequence[str] = ()
    namespace: str | None = None
    suspects: Mapping[str, float] = field(default_factory=dict)
    evidence: Mapping[str, float] = field(default_factory=dict)
    neighbourhood: Mapping[str, float] = field(default_factory=dict)

    def suspicion(self, service: str) -> float:
        """How strongly ``service`` is suspected, in [0, 1]."""
        if not self.suspects:
            return float(service == self.service)
        return max(0.0, min(1.0, self.suspects.get(service, 0.0)))


@dataclass(frozen=True)
class MatchParts:
    """Each part of a match, in [0, 1], before weighting; None: it cannot be judged."""

    text: float
    templates: float
    place: float
    metrics: float
    evidence: float | None
    namespace: float | None
    shape: float | None = None


def evidence_key(service: str, channel: str) -> str:
    return f"{service} {channel}"


def suspects_of(ranking: Sequence[RankedCause], top: int) -> dict[str, float]:
    """The ``top`` services of a ranking by their score relative to the leader's."""
    lead = ranking[0].score if ranking else 0.0
    if lead <= 0:
        return {ranking[0].component: 1.0} if ranking else {}
    return {r.component: max(0.0, r.score / lead) for r in ranking[:top]}


def evidence_profile(ranking: Sequence[RankedCause], top: int) -> dict[str, float]:
    """What each of the ``top`` services is suspected for: ``evidence_key`` -> the channel's
    part of its score (``RankedCause.channels``)."""
    return {
        evidence_key(r.component, channel): part
        for r in ranking[:top]
        for channel, part in r.channels.items()
        if part > 0
    }


def narrowed(profile: Mapping[str, float], width: int) -> dict[str, float]:
    """An evidence profile of its ``width`` services with the most evidence (a service's total
    is its ranking score), as ``evidence_profile`` of that width gives it: a record kept with a
    wider profile is compared on the same footing."""
    totals: dict[str, float] = {}
    for key, part in profile.items():
        service = key.rpartition(" ")[0]
        totals[service] = totals.get(service, 0.0) + part
    if len(totals) <= width:
        return dict(profile)
    top = set(sorted(totals, key=lambda s: (-totals[s], s))[:width])
    return {k: v for k, v in profile.items() if k.rpartition(" ")[0] in top}


def profile_shape(profile: Mapping[str, float]) -> dict[str, float]:
    """An evidence profile without the services' names: each channel's part summed over them
    (the neighbourhood's shape). A fault that slows the calls to a service leaves delays on its
    callers and less flow downstream whichever services those are, so two such incidents on
    differently named services look alike by it. Computed from a stored profile alone."""
    out: dict[str, float] = {}
    for key, part in profile.items():
        channel = key.rpartition(" ")[2]
        out[channel] = out.get(channel, 0.0) + part
    return out


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


def evidence_similarity(current: Mapping[str, float], past: Mapping[str, float]) -> float:
    """Cosine of two evidence profiles; 0 when either is empty. Each profile is scaled by its own
    length, so an incident with loud evidence is not more alike than a quiet one."""
    dot = sum(v * past[k] for k, v in current.items() if k in past)
    norm = math.sqrt(sum(v * v for v in current.values()) * sum(v * v for v in past.values()))
    return max(0.0, min(1.0, dot / norm)) if norm else 0.0


def match_parts(
    record: IncidentRecord, embedding: float, query: Query, rarity: TemplateRarity
) -> tuple[MatchParts, list[str]]:
    """Each part of the match, and the shared templates (rarest first)."""
    templates, shared = template_similarity(query.templates, record.templates, rarity)
    mine, theirs = narrowed(query.evidence, PROFILE_WIDTH), narrowed(record.evidence, PROFILE_WIDTH)
    known = bool(mine and theirs)
    parts = MatchParts(
        text=max(0.0, min(1.0, embedding)),
        templates=templates,
        place=query.suspicion(record.service),
        metrics=metric_similarity(query.metrics, record.abnormal_metrics),
        evidence=evidence_similarity(mine, theirs) if known else None,
        namespace=None if query.namespace is None else float(record.namespace == query.namespace),
        shape=(evidence_similarity(profile_shape(mine), profile_shape(theirs)) if known else None),
    )
    return parts, shared


def score_match(
    record: IncidentRecord,
    embedding: float,
    query: Query,
    rarity: TemplateRarity,
    weights: Weights = WEIGHTS,
) -> SimilarIncident:
    """Combine the parts of a match into one score, and say why."""
    parts, shared = match_parts(record, embedding, query, rarity)
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
    if parts.metrics:
        families = sorted(
            {metric_family(m) for m in query.metrics}
            & {metric_family(m) for m in record.abnormal_metrics}
        )
        reasons.append(f"same abnormal metrics ({', '.join(families)})")
    if weights.evidence and parts.evidence:
        reasons.append(f"same kinds of evidence on the same services ({parts.evidence:.2f})")
    if weights.shape and parts.shape:
        reasons.append(f"same mix of evidence around it, whichever services ({parts.shape:.2f})")
    if record.service == query.service:
        reasons.append(f"same service ({query.service})")
    elif parts.place:
        reasons.append(f"{record.service} is suspected too ({parts.place:.2f} of the leader)")
    if parts.namespace:
        reasons.append(f"same namespace ({query.namespace})")
    return SimilarIncident(
        record=record,
        similarity=round(min(1.0, weights.combine(parts)), 4),
        embedding_similarity=round(embedding, 4),
        shared_templates=shared,
        explanation="; ".join(reasons),
        neighbourhood_similarity=(
            round(evidence_similarity(query.neighbourhood, record.neighbourhood), 4)
            if query.neighbourhood and record.neighbourhood
            else None
        ),
    )


def slotted_order(
    similarity: Sequence[float],
    text: Sequence[float],
    slot: int,
    neighbourhood: Sequence[float] | None = None,
) -> list[int]:
    """The matches' indices, best first: by ``similarity`` (ties: the nearer text), except that
    every ``slot``-th place (0: none) goes to the best remaining match by ``text`` alone, and,
    when ``neighbourhood`` is given, the place after each text place to the best remaining match
    by it alone (the evidence profile of every ranked service). The first places stay the
    combined score's, so a match every part agrees on keeps its rank; the slots keep in sight an
    incident described alike, and one whose whole neighbourhood showed the same evidence, when
    the parts that follow the suspects point elsewhere (a silent cause)."""
    return [i for i, _ in _slotted(similarity, text, slot, neighbourhood)]


def _slotted(
    similarity: Sequence[float],
    text: Sequence[float],
    slot: int,
    neighbourhood: Sequence[float] | None,
) -> list[tuple[int, str]]:
    """``slotted_order`` with the ranking each place came from: "score", "text" or
    "neighbourhood"."""
    indices = range(len(similarity))
    by_score = sorted(indices, key=lambda i: (-similarity[i], -text[i], i))
    if slot <= 0:
        return [(i, "score") for i in by_score]
    by_text = sorted(indices, key=lambda i: (-text[i], -similarity[i], i))
    cycle = ["score"] * (slot - 1) + ["text"]
    rankings = {"score": iter(by_score), "text": iter(by_text)}
    if neighbourhood is not None:
        cycle.append("neighbourhood")
        rankings["neighbourhood"] = iter(
            sorted(indices, key=lambda i: (-neighbourhood[i], -similarity[i], i))
        )
    order: list[tuple[int, str]] = []
    taken: set[int] = set()
    while len(order) < len(by_score):
        name = cycle[len(order) % len(cycle)]
        index = next((i for i in rankings[name] if i not in taken), None)
        if index is None:  # the slot's ranking ran out: the rest come by score
            name = "score"
            index = next(i for i in rankings[name] if i not in taken)
        order.append((index, name))
        taken.add(index)
    return order


def _neighbourhoods(matches: Sequence[SimilarIncident]) -> list[float] | None:
    """The matches' neighbourhood similarities for ``slotted_order`` (0 where unknown); None
    when no match has one (a memory of records kept before the profile, or no ranking now)."""
    found = [m.neighbourhood_similarity for m in matches]
    if all(f is None for f in found):
        return None
    return [f or 0.0 for f in found]


def _around(matches: Sequence[SimilarIncident]) -> list[float] | None:
    """``_neighbourhoods`` when the chosen order has a place for the neighbourhood."""
    return _neighbourhoods(matches) if CHOSEN.neighbourhood else None


def ordered(matches: Sequence[SimilarIncident], slot: int = TEXT_SLOT) -> list[SimilarIncident]:
    """``matches`` in the order shown (``slotted_order``); a match a slot moved above higher
    scores says so, since the similarities shown are then not in falling order."""
    similarity = [m.similarity for m in matches]
    text = [m.embedding_similarity for m in matches]
    by_score = {i: k for k, i in enumerate(slotted_order(similarity, text, 0))}
    out = []
    for place, (i, source) in enumerate(_slotted(similarity, text, slot, _around(matches))):
        match = matches[i]
        if place < by_score[i]:
            raised = RAISED_AROUND if source == "neighbourhood" else RAISED
            match = match.model_copy(update={"explanation": f"{match.explanation}; {raised}"})
        out.append(match)
    return out


def shown(
    matches: Sequence[SimilarIncident], limit: int, slot: int = TEXT_SLOT
) -> list[SimilarIncident]:
    """The ``limit`` matches a person sees: the first ``limit`` of the retrieval order
    (``slotted_order``, so the same incidents are found) listed by the similarity shown beside
    each, best first, because a reader takes the order as confidence (a 0.23 above a 0.42 read
    as the better match). A match in the list only because of a slot (its text, or the evidence
    around every ranked service) says so, and how many matches scoring higher were left out for
    it and the best of them."""
    similarity = [m.similarity for m in matches]
    text = [m.embedding_similarity for m in matches]
    by_score = slotted_order(similarity, text, 0)
    chosen = dict(_slotted(similarity, text, slot, _around(matches))[:limit])
    left_out = [i for i in by_score[:limit] if i not in chosen]
    place = {i: k for k, i in enumerate(by_score)}
    out = []
    for i in sorted(chosen, key=lambda i: place[i]):
        match = matches[i]
        if place[i] >= limit and left_out:
            best = max(similarity[j] for j in left_out)
            listed = (
                LISTED_FOR_AROUND.format(around=match.neighbourhood_similarity or 0.0)
                if chosen[i] == "neighbourhood"
                else LISTED_FOR_TEXT
            )
            note = listed.format(
                LEFT_OUT_ONE.format(best=best)
                if len(left_out) == 1
                else LEFT_OUT_MANY.format(count=len(left_out), best=best)
            )
            match = match.model_copy(update={"explanation": f"{match.explanation}; {note}"})
        out.append(match)
    return out
