"""`@medic why not X?` in an incident's thread: why Medic does not take service X for where the
fault started, answered from the ranking the investigation kept (``Investigation.origins``).

Only "why not X" (and "why isn't it X") asks it: "what about the logs?" is another question. X is
the person's text: only a bounded service-like word is taken from it, it is compared with
the services that were looked at and never acted on; an X that was not looked at gets the list of
those that were and how they were chosen. Pure: the caller passes the investigation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from bot import messages
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.origin_views import OriginsView, OriginView, listed, origins_view, relation_phrase

MAX_NAME = 63  # a Kubernetes workload name is a DNS label: 63 characters at most
MAX_QUESTION = 500  # characters of the question read: the name comes right after "why not"
_QUESTION = re.compile(
    r"\bwhy\s+(?:not|(?:isn'?t|wasn'?t|is\s+it\s+not)\s+it)\b\s*(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_NAME = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")


def asks_why_not(text: str) -> bool:
    """Whether ``text`` asks why some service is not the origin."""
    return _QUESTION.search(text[:MAX_QUESTION]) is not None


def target(text: str) -> str | None:
    """The service ``text`` asks about ('checkout' in "why not checkout?"), bounded; '' when
    the question names none; None when ``text`` is no such question."""
    found = _QUESTION.search(text[:MAX_QUESTION])
    if found is None:
        return None
    words = found.group("rest").split()
    while words and words[0].lower() in ("the", "service", "svc"):
        words = words[1:]
    if not words:
        return ""
    word = words[0].strip("`'\"*_?!.,;:()[]{}<>")[:MAX_NAME]
    return "" if word.lower() in ("it", "that", "this") else word


def why_not(text: str, incident: Incident, inv: Investigation, catalog: Glossary) -> str:
    """The answer to "why not X?" from ``inv``'s ranking of the services around ``incident``."""
    name = target(text) or ""
    if not name:
        return messages.WHY_NOT_NO_NAME
    service = incident.service
    found = inv.origins
    if not found.relations:
        return messages.WHY_NOT_NO_RANKING.format(service=service, name=name)
    known = {s.lower(): s for s in found.relations}
    if name.lower() not in known or not _NAME.fullmatch(name):
        return messages.WHY_NOT_NOT_LOOKED_AT.format(
            name=name,
            count=len(found.relations),
            service=service,
            names=listed(list(found.relations)),
            namespace=incident.namespace,
        )
    name = known[name.lower()]
    view = origins_view(inv, catalog, shown=len(found.ranked))
    mine = None if view is None else next((o for o in view.ranked if o.service == name), None)
    if view is None or mine is None:
        candidate = found.relations[name]
        relation = relation_phrase(candidate.relation, candidate.hops, service).plain(_utc)
        return messages.WHY_NOT_UNREAD.format(name=name, relation=relation)
    if mine.rank == 1:
        head = messages.WHY_NOT_IS_ORIGIN.format(
            name=name, score=mine.score, headline=view.headline.plain(_utc)
        )
        return "\n".join([head, *_evidence(mine)])
    return "\n".join(_ranked_below(mine, view, inv, catalog))


def _ranked_below(
    mine: OriginView, view: OriginsView, inv: Investigation, catalog: Glossary
) -> list[str]:
    origin = view.origin
    lines = [
        messages.WHY_NOT_RANK.format(
            name=mine.service,
            rank=mine.rank,
            count=len(inv.origins.ranked),
            score=mine.score,
            facts="; ".join(f.plain(_utc) for f in mine.facts),
            origin=origin.service,
            origin_score=origin.score,
        )
    ]
    hops = _calls_origin(mine, origin, view.service, inv.origins.calls)
    if hops is not None:
        began = _abnormal_since(mine, view.service, inv, catalog)
        template = messages.WHY_NOT_DOWNSTREAM_VIA if hops > 1 else messages.WHY_NOT_DOWNSTREAM
        lines.append(
            template.format(
                name=mine.service,
                origin=origin.service,
                between=hops - 1,
                timing=_timing(mine, began, origin),
            )
        )
    if not mine.clear and mine.service != view.service:  # the alerting one paged: not quiet
        lines.append(
            (messages.WHY_NOT_WEAK if mine.evidence else messages.WHY_NOT_QUIET).format(
                name=mine.service,
                read=messages.WHY_NOT_READ_ALL if mine.logs_read else messages.WHY_NOT_READ_METRICS,
                start=_utc(inv.window.split),
                end=_utc(inv.window.end),
            )
        )
    return lines + _evidence(mine)


def _calls_origin(
    mine: OriginView, origin: OriginView, service: str, calls: Mapping[str, Sequence[str]]
) -> int | None:
    """How many calls away from ``mine`` the origin is, when ``mine`` is known to call it (the
    known calls among the candidates, else what the ranking and the relations to the alerting
    ``service`` tell); None when it is not known to."""
    hops = _distance(mine.service, origin.service, calls)
    if hops is not None:
        return hops
    if mine.service == service and origin.relation == "calls":
        return origin.hops or 1
    if origin.service == service and mine.relation == "called_by":
        return mine.hops or 1
    return 1 if mine.downstream_of == origin.service else None


def _distance(start: str, goal: str, calls: Mapping[str, Sequence[str]]) -> int | None:
    """Calls from ``start`` to ``goal`` along ``calls``, the fewest; None when unreachable."""
    seen, frontier, hops = {start}, [start], 0
    while frontier:
        hops += 1
        frontier = [c for name in frontier for c in calls.get(name, ()) if c not in seen]
        if goal in frontier:
            return hops
        seen.update(frontier)
    return None


def _abnormal_since(
    mine: OriginView, service: str, inv: Investigation, catalog: Glossary
) -> float | None:
    """When ``mine`` turned abnormal: for the alerting service, its first symptom (as the
    thread's headline measures it); for another, its first deviation."""
    if mine.service == service:
        bad = [f.start for f in inv.findings if catalog.is_bad(f)]
        if bad:
            return min(bad)
    return mine.began


def _timing(mine: OriginView, began: float | None, origin: OriginView) -> str:
    if began is None or origin.began is None:
        return messages.WHY_NOT_UNTIMED.format(name=mine.service)
    minutes = round((began - origin.began) / 60.0)
    values = {
        "name": mine.service,
        "origin": origin.service,
        "began": _utc(began),
        "origin_began": _utc(origin.began),
        "minutes": abs(minutes),
    }
    if minutes == 0:
        return messages.WHY_NOT_SAME_TIME.format(**values)
    template = messages.WHY_NOT_AFTER if minutes > 0 else messages.WHY_NOT_BEFORE
    return template.format(**values)


def _evidence(o: OriginView) -> list[str]:
    if not o.evidence:
        return [messages.WHY_NOT_NO_EVIDENCE]
    return [messages.WHY_NOT_EVIDENCE, *(f"- {e}" for e in o.evidence)]


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")
