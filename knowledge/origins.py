"""Where an incident started: the one root-cause ranker that both a live investigation
(``bot.diagnosis.origins``) and ``medic eval rca`` call, so the evaluation measures what users get.

It ranks services by their evidence (``knowledge.ranking``: error surges, template drops, trace
hand-offs, CPU and latency against each service's own history), then follows the call path: a
leader that calls a service which is itself clearly abnormal - seen to turn abnormal at a known
time, no later than the leader - is taken to be affected downstream, and the deepest such service
leads. The call graph comes from the configuration, a trace source or the simulated shop; without
one (the Nezha evaluation) the path rule has nothing to follow and the evidence order stands.

The live investigation cannot read every candidate's logs in its budget, so it ranks in two
stages: every candidate on cheap metric evidence first (``screen``), then the few the screen puts
highest - and the alerting service - with their logs too. ``medic eval rca`` reports both: the
ranking with every service's logs, and the one the live screen would have given.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from knowledge.ranking import (
    CLEAR_SIGNAL,
    DEFAULT_CHANNELS,
    SELF_MEASURED,
    Features,
    RankedCause,
    rank_components,
)

SCREEN_CHANNELS = frozenset({"saturation", "latency", "shift"})  # what metrics alone can say
LATER = 60.0  # seconds: a callee that turned abnormal this much after its caller did not cause it


@dataclass(frozen=True)
class Origin:
    """A ranked service and, when the call path moved it, the service it is downstream of."""

    cause: RankedCause
    downstream_of: str | None = None

    @property
    def service(self) -> str:
        return self.cause.component

    @property
    def began(self) -> bool:
        """Whether the service was seen to deviate at a known time (a point out of band, a
        template that surged): a score alone can come from a metric that barely moved."""
        return self.cause.first_deviation is not None

    @property
    def clear(self) -> bool:
        """Whether any kind of evidence clearly implicates the service (e-fold its usual)."""
        return any(part >= CLEAR_SIGNAL for part in self.cause.channels.values())

    @property
    def beyond_metrics(self) -> bool:
        """Whether evidence other than its metrics (its logs, its traces) clearly implicates the
        service: among many candidates some service's CPU or latency is out of its band by
        chance in most windows; a new error or a stopped code path seldom is."""
        return any(
            part >= CLEAR_SIGNAL
            for channel, part in self.cause.channels.items()
            if channel not in SELF_MEASURED
        )


def rank_origins(
    current: Mapping[str, Features],
    history: Sequence[Mapping[str, Features]] = (),
    graph: Mapping[str, Sequence[str]] | None = None,
    channels: Collection[str] = DEFAULT_CHANNELS,
    leaders: Sequence[str | None] = (),
) -> list[Origin]:
    """Services by evidence, the most likely origin first: ``rank_components`` over ``current``
    (``history``: the same services' features in other windows; ``leaders``: the origin each of
    those windows named), then the call path of ``graph`` (service -> the services it calls).

    Each service is compared with all its kept windows, so a job that always fails is usual and
    a service that newly fails leads. But a fault that recurs with nothing new beside it would
    fade the same way - its own earlier faults become its yardstick. So when the leader is
    implicated by its metrics alone (not ``Origin.beyond_metrics``), the ranking is done again
    with each service's led windows left out (:func:`led_out`): the recurring origin is compared
    with the windows it did not lead, as on its first investigation."""
    ranked = [Origin(c) for c in rank_components(current, history, channels)]
    if any(leaders) and ranked and not ranked[0].beyond_metrics:
        again = rank_components(current, led_out(history, leaders), channels)
        ranked = [Origin(c) for c in again]
    return follow_calls(ranked, graph or {})


def leader_of(ranked: Sequence[Origin]) -> str | None:
    """The service an investigation names the origin, to be kept with its evidence: the first,
    when any evidence clearly implicates it (a leader by a hair is no fault of its own)."""
    return ranked[0].service if ranked and ranked[0].clear else None


def led_out(
    history: Sequence[Mapping[str, Features]], leaders: Sequence[str | None]
) -> list[Mapping[str, Features]]:
    """``history`` with each window's leader left out of it (``leaders``: one a window, None
    for none): the window an investigation named a service the origin of is its fault, not its
    usual."""
    out: list[Mapping[str, Features]] = []
    for k, found in enumerate(history):
        leader = leaders[k] if k < len(leaders) else None
        if leader is None or leader not in found:
            out.append(found)
        else:
            out.append({name: f for name, f in found.items() if name != leader})
    return out


def metrics_only(found: Features) -> Features:
    """A service's evidence when its logs were not read: its metric channels only. The log and
    trace channels are left out, not kept as 0 - unknown, so a later investigation that reads
    its logs compares them with the windows they were read in (``knowledge.ranking``), not
    with zeros that only say nobody looked."""
    channels = {c: v for c, v in found.channels.items() if c in SCREEN_CHANNELS}
    return replace(found, channels=channels)


def screen(current: Mapping[str, Features], keep: int, always: Collection[str] = ()) -> list[str]:
    """The services worth reading logs for: the ``keep`` strongest on metric evidence alone (with
    ``always`` besides), in ranking order."""
    ranked = [c.component for c in rank_components(current, (), SCREEN_CHANNELS)]
    chosen = [name for name in ranked if name in always]
    chosen += [name for name in ranked if name not in always][: max(keep, 0)]
    return chosen


def follow_calls(ranked: Sequence[Origin], graph: Mapping[str, Sequence[str]]) -> list[Origin]:
    """The call-path rule: from the leader, move to the strongest clearly abnormal service it
    calls (directly or further down) that turned abnormal no later than it did, until none is
    left; that service leads and the ones passed on the way are marked downstream of it."""
    if not ranked or not graph or ranked[0].cause.score <= 0:
        return list(ranked)
    by_name = {o.service: o for o in ranked}
    path = [ranked[0]]
    while deeper := _abnormal_callee(path[-1], by_name, graph, {o.service for o in path}):
        path.append(deeper)
    if len(path) == 1:
        return list(ranked)
    origin = path[-1]
    moved = {o.service: replace(o, downstream_of=origin.service) for o in path[:-1]}
    rest = [moved.get(o.service, o) for o in ranked if o.service != origin.service]
    return [origin, *rest]


def _abnormal_callee(
    caller: Origin,
    by_name: Mapping[str, Origin],
    graph: Mapping[str, Sequence[str]],
    seen: set[str],
) -> Origin | None:
    """The strongest service below ``caller`` in the call graph that is clearly abnormal and
    was not later than the caller to deviate."""
    below: list[Origin] = []
    stack, visited = list(graph.get(caller.service, ())), set(seen)
    while stack:
        name = stack.pop()
        if name in visited:
            continue
        visited.add(name)
        stack += graph.get(name, ())
        found = by_name.get(name)
        if found is not None and found.clear and not _later(found, caller) and found.began:
            below.append(found)
    return max(below, key=lambda o: (o.cause.score, o.service), default=None)


def _later(callee: Origin, caller: Origin) -> bool:
    began, caller_began = callee.cause.first_deviation, caller.cause.first_deviation
    return began is not None and caller_began is not None and began > caller_began + LATER
