"""Where it started, as the thread shows it (issue 14): the view of ``Investigation.origins`` -
a headline naming the most likely origin, when it began against the alerting service's first
symptom and where it sits in the call path, then the first few services ranked with their facts
and evidence. Part of the one view model (``bot.views.DiagnosisView.origins``): Slack, the
terminal, `medic investigate --json` and `@medic why not X?` read it, with the same caps.

Sentences are :class:`Phrase` values (a template from ``bot.messages`` and its values), so which
sentence is said is decided once, here, and each renderer fills it its own way - Slack escapes
every value and shows times in each reader's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot import messages
from bot.diagnosis.at_origin import model_at_fault
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from knowledge import default_vocabulary
from knowledge.origins import Origin

MAX_ORIGINS = 3  # candidates shown with their evidence in the thread and on the terminal
MAX_ORIGINS_REPORTED = 10  # in `medic investigate --json`
MAX_ORIGIN_EVIDENCE = 3  # evidence strings per candidate
MAX_EVIDENCE_CHARS = 240  # an evidence string names log templates: long, and from the logs
MAX_NAMES = 8  # service names listed in one sentence


@dataclass(frozen=True)
class At:
    """A time in a sentence: Slack shows it in each reader's time zone, the terminal in UTC."""

    ts: float


@dataclass(frozen=True)
class Phrase:
    """A sentence from ``bot.messages`` and the values it is filled with, which may be times
    and phrases themselves. Each renderer fills it its own way (Slack escapes every value), so
    which sentence is said is decided once, here."""

    template: str
    values: tuple[tuple[str, PhraseValue], ...] = ()

    @staticmethod
    def of(template: str, **values: PhraseValue) -> Phrase:
        return Phrase(template, tuple(values.items()))

    def plain(self, time: Callable[[float], str]) -> str:
        """The sentence as plain text, times written by ``time``."""

        def value(v: PhraseValue) -> object:
            if isinstance(v, Phrase):
                return v.plain(time)
            if isinstance(v, At):
                return time(v.ts)
            return v

        return self.template.format(**{k: value(v) for k, v in self.values})


PhraseValue = str | int | float | At | Phrase


@dataclass(frozen=True)
class OriginView:
    """One service ranked as where the fault may have started, with what says so."""

    rank: int
    service: str
    score: float
    relation: str  # 'alerting', 'calls', 'called_by', 'namespace' or 'unknown'
    hops: int | None  # calls away from the alerting service along the known call graph
    downstream_of: str | None  # the origin, when the call path showed it is a victim of it
    began: float | None  # when it was first seen to deviate, epoch seconds
    evidence: tuple[str, ...]  # what changed, against its own history (capped, cut)
    logs_read: bool
    clear: bool  # some kind of evidence clearly implicates it
    signal: str  # its strongest kind of evidence in words ('latency', 'error logs')
    facts: tuple[Phrase, ...]  # where in the call path, when, what was read


@dataclass(frozen=True)
class OriginsView:
    """Where the fault most likely started: a headline and the first few candidates."""

    service: str  # the alerting service
    headline: Phrase
    ranked: tuple[OriginView, ...]
    more: int  # ranked services beyond those shown
    looked_at: Phrase

    @property
    def origin(self) -> OriginView:
        return self.ranked[0]

    model_home: bool = False  # the alerting service's own model is at fault, whoever ranks first

    @property
    def elsewhere(self) -> bool:
        """Whether the fault clearly started in another service than the alerting one."""
        return not self.model_home and self.origin.clear and self.origin.service != self.service


def origins_view(
    inv: Investigation, catalog: Glossary, shown: int = MAX_ORIGINS
) -> OriginsView | None:
    """Where the fault started, from ``inv.origins``: None when no ranking ran (a single
    service, no metrics, or a diagnosis kept before origins were)."""
    found = inv.origins
    ranked = found.ranked
    service = next((c.service for c in found.relations.values() if c.relation == "alerting"), "")
    if not ranked or not service:
        return None
    mark, marked_at = _symptom_mark(inv, catalog, service)
    views = tuple(
        _origin(rank, o, inv, service) for rank, o in enumerate(ranked[: max(shown, 1)], 1)
    )
    cause = model_at_fault(inv.model)
    headline = _headline(views[0], ranked, service, mark, marked_at)
    if cause:
        headline = Phrase.of(
            messages.ORIGIN_MODEL,
            service=service,
            cause=next((h.title for h in inv.hypotheses if h.cause == cause), cause),
            count=max(0, len(ranked) - 1),
            leader=next((o.service for o in ranked if o.service != service), service),
        )
    return OriginsView(
        service=service,
        model_home=bool(cause),
        headline=headline,
        ranked=views,
        more=max(0, len(ranked) - len(views)),
        looked_at=Phrase.of(
            messages.ORIGINS_LOOKED_AT,
            count=len(found.relations),
            service=service,
            logs=listed(sorted(found.with_logs)),
        ),
    )


def _symptom_mark(
    inv: Investigation, catalog: Glossary, service: str
) -> tuple[Phrase | None, float | None]:
    """What the origin's timing is measured against: the alerting service's first symptom
    ("frontend's p95 latency rose"), else its first deviation in the ranking."""
    bad = [f for f in inv.findings if catalog.is_bad(f)]
    if bad:
        first = min(bad, key=lambda f: f.start)
        moved = messages.SYMPTOM_MOVED.get(first.direction.value, messages.SYMPTOM_DEVIATED)
        return Phrase.of(moved, service=service, symptom=catalog.name(first)), first.start
    own = next((o for o in inv.origins.ranked if o.service == service), None)
    if own is None or own.cause.first_deviation is None:
        return None, None
    return Phrase.of(messages.SYMPTOM_DEVIATED, service=service), own.cause.first_deviation


def _origin(rank: int, o: Origin, inv: Investigation, service: str) -> OriginView:
    candidate = inv.origins.relation(o.service)
    relation = candidate.relation if candidate else "unknown"
    hops = candidate.hops if candidate else None
    began = o.cause.first_deviation
    facts = [relation_phrase(relation, hops, service)]
    if o.downstream_of:
        facts.append(Phrase.of(messages.DOWNSTREAM_OF, origin=o.downstream_of))
    if began is None:
        facts.append(Phrase(messages.NO_TIMED_DEVIATION))
    else:
        facts.append(Phrase.of(messages.FIRST_DEVIATED, began=At(began)))
    logs_read = o.service in inv.origins.with_logs
    facts.append(Phrase(messages.LOGS_READ if logs_read else messages.METRICS_ONLY))
    return OriginView(
        rank=rank,
        service=o.service,
        score=o.cause.score,
        relation=relation,
        hops=hops,
        downstream_of=o.downstream_of,
        began=began,
        evidence=tuple(_cut(e) for e in o.cause.evidence[:MAX_ORIGIN_EVIDENCE]),
        logs_read=logs_read,
        clear=o.clear,
        signal=_signal(o.cause.channels),
        facts=tuple(facts),
    )


def relation_phrase(relation: str, hops: int | None, service: str) -> Phrase:
    """Where a candidate sits relative to the alerting ``service`` ('called by frontend')."""
    between = (hops or 1) - 1
    key = f"{relation}_via" if between > 0 and f"{relation}_via" in messages.RELATION else relation
    template = messages.RELATION.get(key, messages.RELATION["unknown"])
    return Phrase.of(template, service=service, between=between)


def _headline(
    origin: OriginView,
    ranked: list[Origin],
    service: str,
    mark: Phrase | None,
    marked_at: float | None,
) -> Phrase:
    others = [o.service for o in ranked if o.service != origin.service]
    if not origin.clear:
        return Phrase.of(messages.ORIGIN_UNCLEAR, count=len(ranked), origin=origin.service)
    if origin.service == service:  # timed against its own symptom: no lead to tell
        return Phrase.of(
            messages.ORIGIN_ITSELF,
            service=service,
            signal=origin.signal,
            when=_when(origin.began, None, None),
            count=len(others),
            names=listed(others),
        )
    between = (origin.hops or 1) - 1
    path_key = origin.relation if origin.relation in messages.ORIGIN_PATH else "namespace"
    if between > 0 and f"{path_key}_via" in messages.ORIGIN_PATH:
        path_key = f"{path_key}_via"
    return Phrase.of(
        messages.ORIGIN_ELSEWHERE,
        origin=origin.service,
        signal=origin.signal,
        when=_when(origin.began, mark, marked_at),
        path=Phrase.of(messages.ORIGIN_PATH[path_key], service=service, between=between),
    )


def _when(began: float | None, mark: Phrase | None, marked_at: float | None) -> Phrase:
    """' since 12:03, 4 min before frontend's p95 latency rose', or less when less is known."""
    if began is None:
        return Phrase("")
    if mark is None or marked_at is None:
        return Phrase.of(messages.ORIGIN_SINCE, began=At(began))
    minutes = round((marked_at - began) / 60.0)
    if minutes == 0:
        return Phrase.of(messages.ORIGIN_AS, began=At(began), mark=mark)
    template = messages.ORIGIN_BEFORE if minutes > 0 else messages.ORIGIN_AFTER
    return Phrase.of(template, began=At(began), minutes=abs(minutes), mark=mark)


def _signal(channels: Mapping[str, float]) -> str:
    """The strongest kind of evidence, in words."""
    if not channels:
        return messages.ORIGIN_SIGNAL
    strongest = max(channels, key=lambda c: (channels[c], c))
    return default_vocabulary().channel_words.get(strongest, strongest)


def _cut(text: str, most: int = MAX_EVIDENCE_CHARS) -> str:
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def listed(names: list[str], most: int = MAX_NAMES) -> str:
    """'a, b, c (and 4 more)': a bounded list of names for a sentence."""
    shown = ", ".join(names[:most])
    more = len(names) - most
    return f"{shown} ({messages.AND_MORE.format(count=more)})" if more > 0 else shown
