"""What request traces in the logs say about where an incident started.

Many services log a trace id with every line. Ordering one trace's lines by time
gives the path a request took through the components; a baseline window tells what usually follows
what. Two pieces of evidence come from that:

- flow blame: in each trace of the incident window, the first step that the baseline makes
  unlikely, and the component responsible for it. When the usual next step is a hop into another
  component that never happened (the callee failed before it could log), that component is blamed;
  otherwise the component that did the unexpected thing (logged an error, took another branch,
  stopped). Callers log their error after the callee's, so the first deviation of a trace points
  at the callee.
- hand-off delay: how much slower a component hands a request on to the next one (its call or its
  reply) than the same hand-off in the baseline. A network delay on one component slows every
  packet it sends, so its hand-offs slow down and its neighbours' do not.

Both are judged so that a fault type that only slows things down still points at its service
(issue 13, chosen by the generalisation protocol over the exact-pair versions of issue 4, which
are kept beside them for that comparison):

- the flow blame is *timed*: a deviation which follows a hand-off that took far longer than usual
  is charged to the component that handed off late (a caller that times out logs the error, but
  the callee's late reply caused it); and a step too rare in a short baseline to judge is judged
  by what usually follows its component.
- the hand-off delay is *pooled*: a pair of steps too rare in the baseline is judged against the
  same step handing on to the same component, or failing that the two components' link.
- stretch (a candidate, computed only when asked): like the hand-off delay, over the steps between
  a component's own consecutive lines: a service slowed by its own work, or by calls to
  something that does not log (a database across a delayed network), takes longer between them.
- late links: per link from a component to one neighbour, how much more often its hand-offs are
  slow (3 baseline spreads past the usual) than the same link's were in the baseline (Poisson
  deviance of the count). The delay quartile misses a delay on only some requests, on one edge
  only, or small beside the hand-off's own spread; a count per link sees each.
- self time (candidates, not scored by default): per request, a component's own time - the gaps
  that start at its lines, its own work and what it sends, not the time its callees take before
  they answer - against the same component's requests in the baseline: the service that got slow
  is where self time rose, its callers only inherit the wait. Measured two ways: the upper
  quartile of the excess (``self_time``) and how much more often it is past 3 spreads
  (``self_slow``, a Poisson deviance as for late links).
- late breadth (a candidate, computed only when asked): the late links' scores past 3 sigma
  summed over all of a component's links - a delay on every packet it sends makes each of its
  links late, a victim's slowness is usually on one.
- the call graph (candidates, issue 13's sixth pass, ``call_graph_evidence``): a personalised
  PageRank walking back along the late links to who handed slow work on, a late link less the
  slowness handed to its sender, and who handed a component slow work.
- slow onset (the trace-timing part of onset order in ``knowledge.ranking``, issue 13's fifth
  pass): when a component's hand-offs first became slow too often, against its own baseline
  rate.

A live investigation reads plain log lines, not a data set with a trace column: ``trace_id_of``
finds the id in a line's text, in the shapes tracing libraries log it, and ``trace_events``
turns the lines of several services into the events the evidence is computed from.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.logs import LogLine

UNLIKELY = 0.05  # a successor seen in fewer than 5% of the baseline continuations deviates
MIN_SUPPORT = 3  # baseline occurrences of a step before its successors are judged
SMOOTHING = 0.1
SMOOTHING_LATE = 0.5  # slow hand-offs added to a link's baseline count (none seen is not zero)
EDGE_SECONDS = 3.0  # a trace ending this close to the window end may be cut off, not stopped
CLOCK_RESOLUTION = 0.001  # log timestamps are milliseconds at best
MIN_HANDOFFS = 5
DELAY_QUANTILE = 0.75  # most hand-offs of a delayed component are slow, not just a few
TAIL_QUANTILE = 0.9  # a delay on some requests only moves the tail (a candidate, ``delay_tail``)
LATE_SPREADS = 10.0  # a hand-off this many baseline spreads slower than usual is late
CLEAR_LATE = 3.0  # a link's slow count this many deviance-sigmas over the baseline is named
SLOW_SPREADS = 3.0  # a hand-off counted as slow by ``late_links`` (out of band, as for metrics)
ONSET_SIGMAS = 3.0  # a component's slow count this far over its baseline rate marks its onset
TRACE_SCAN = 4096  # characters of a line searched for a trace id (ids come early; bodies do not)
TRACE_MENTIONS = 8  # places in a line where "trace" is tried as the key of an id
# `trace_id=..`, `traceId":"..`, `traceID: ..`, `TraceID: .. SpanID: ..` (Nezha), `trace.id`
# (ECS), `dd.trace_id`, `traceparent: 00-..-..-01` (W3C): a key, an optional closing quote, `:`
# or `=`, an optional opening quote, and a value of 8 to 128 characters; tried only where a line
# says "trace", every repetition bounded, so a line costs time linear in its length
_KEYED_ID = re.compile(
    r"trace(?:[_.-]?id|(parent))[\"']?\s{0,3}[:=]\s{0,3}[\"']?"
    r"([0-9A-Za-z][0-9A-Za-z_-]{7,127})(?![0-9A-Za-z_-])",
    re.IGNORECASE,
)
# the value of a W3C traceparent: version, the 32-hex trace id, the parent span id, the flags
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}", re.IGNORECASE)
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGIT = re.compile(r"[0-9]")
_WORD = "abcdefghijklmnopqrstuvwxyz0123456789"
_START = ("", "<start>")
_END = ("", "<end>")


@dataclass(frozen=True)
class TraceEvent:
    """One log line of a traced request: which component logged which template, when."""

    trace: str
    timestamp: float
    component: str
    template: str

    @property
    def step(self) -> tuple[str, str]:
        return self.component, self.template


@dataclass(frozen=True)
class Blame:
    component: str
    kind: str  # "missing", "deviates", "stops", "new", "late"
    expected: str
    seen: str


@dataclass
class TraceEvidence:
    """What the traces say about one component."""

    blamed: int = 0  # traces whose first deviation points at it (timed blame)
    delay: float = 0.0  # upper quartile of its hand-offs' slowdown, in baseline spreads (pooled)
    delay_seconds: float = 0.0
    blamed_untimed: int = 0  # the flow blame without timing or pooling (issue 4's)
    traced: int = 0  # current traces it appears in (what ``blamed`` is a share of)
    delay_exact: float = 0.0  # the delay against exact pairs of steps only (issue 4's)
    stretch: float = 0.0  # upper quartile of the slowdown of its own steps, in baseline spreads
    late: float = 0.0  # its most surprising link's count of late hand-offs (z-like, ``late_links``)
    late_link: str = ""  # the neighbour that link hands on to
    self_time: float = 0.0  # upper quartile of its per-request own time's excess, in spreads
    self_slow: float = 0.0  # how much more often its per-request own time is slow (z-like)
    delay_tail: float = 0.0  # the delay's 0.9 quantile (a partial delay moves the tail only)
    late_breadth: float = 0.0  # its late links' scores past 3 sigma, summed over its links
    # sixth pass candidates (``call_graph_evidence``): the late-link walk's share of the window's
    # slow-link evidence, its late links less the slowness handed to it, and who handed it late
    graph_rank: float = 0.0
    late_unexplained: float = 0.0
    senders: dict[str, float] = field(default_factory=dict)
    onset: float | None = None  # when its hand-offs first became slow too often (``slow_onsets``)
    # whether the candidates the protocol dropped were computed (``trace_evidence``'s
    # ``candidates``): a live investigation does not compute them, so it does not score them
    candidates: bool = False
    examples: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def describe(self) -> list[str]:
        out = []
        if self.blamed and self.examples:
            (kind, expected, seen), _ = self.examples.most_common(1)[0]
            what = {
                "missing": f"the call that should log '{expected}' never arrived",
                "stops": f"requests stop after it instead of '{expected}'",
                "new": f"'{seen}' was never seen in the baseline",
                "late": f"it answered '{expected}' late and the caller then did '{seen}'",
            }.get(kind, f"'{seen}' instead of the usual '{expected}'")
            out.append(f"first deviation of {self.blamed} request traces ({what})")
        if self.delay_seconds >= CLOCK_RESOLUTION and self.delay > 1.0:
            out.append(f"hands requests on {1000 * self.delay_seconds:.0f} ms slower than usual")
        if self.late >= CLEAR_LATE and self.late_link:
            out.append(f"its hand-offs to {self.late_link} are slow far more often than usual")
        return out


def trace_id_of(message: str) -> str:
    """The trace id a log line carries, or "" (none, or a placeholder such as ``null``,
    ``undefined`` or an all-zero id, which W3C Trace Context declares invalid). A hexadecimal
    id is lower-cased, so a service logging ``TraceID: 4BF9..`` and one sending
    ``traceparent: 00-4bf9..-..`` join the same trace."""
    text = message[:TRACE_SCAN]
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: positions differ
        found = _KEYED_ID.search(text)
        return _valid(found) if found else ""
    at = lowered.find("trace")
    for _ in range(TRACE_MENTIONS):
        if at < 0:
            break
        if at == 0 or lowered[at - 1] not in _WORD:  # `subtraceid` is no key; `dd.trace_id` is
            found = _KEYED_ID.match(text, at)
            if found:
                return _valid(found)
        at = lowered.find("trace", at + 5)
    return ""


def _valid(found: re.Match[str]) -> str:
    value = found.group(2)
    if found.group(1):  # a traceparent: its trace id is the second field
        parent = _TRACEPARENT.fullmatch(value)
        if parent is None:
            return ""
        value = parent.group(1)
    if not _DIGIT.search(value) or not value.strip("0-_"):
        return ""
    return value.lower() if _HEX.fullmatch(value) else value


def trace_events(
    component: str, lines: Sequence[LogLine], templates: Sequence[str]
) -> list[TraceEvent]:
    """The traced ones among ``component``'s ``lines`` (``templates``: each line's template) as
    trace events; a line without a trace id is left out."""
    events = []
    for line, template in zip(lines, templates, strict=True):
        trace = trace_id_of(line.message)
        if trace:
            events.append(TraceEvent(trace, line.timestamp, component, template))
    return events


def group_traces(events: Iterable[TraceEvent]) -> list[list[TraceEvent]]:
    """Events by trace id (events without one are left out), each trace in time order."""
    traces: dict[str, list[TraceEvent]] = defaultdict(list)
    for event in events:
        if event.trace:
            traces[event.trace].append(event)
    for trace in traces.values():
        trace.sort(key=lambda e: e.timestamp)
    return list(traces.values())


class FlowModel:
    """How often each step of a baseline trace is followed by each next step."""

    def __init__(self, traces: Iterable[Sequence[TraceEvent]]) -> None:
        self._next: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
        self._next_component: dict[str, Counter[str]] = defaultdict(Counter)
        traces = list(traces)
        for trace in traces:
            steps = [_START, *(e.step for e in trace), _END]
            for before, after in itertools.pairwise(steps):
                self._next[before][after] += 1
                self._next_component[before[0]][after[0]] += 1
        self._gaps = usual_gaps(traces, pooled=True)

    def blame(
        self,
        trace: Sequence[TraceEvent],
        cut_off: bool = False,
        timed: bool = False,
    ) -> Blame | None:
        """The first step of ``trace`` the baseline makes unlikely, and whom it points at.
        ``cut_off``: the trace may continue beyond the window, so its end proves nothing.
        ``timed``: a deviation right after another component handed off late is that
        component's (the caller gave up waiting for it); and a step too rare in the baseline to
        judge is judged by what usually follows its component (a quiet service's requests that
        stop after it, or whose caller gives up on it)."""
        steps = [*(e.step for e in trace), _END]
        times = [e.timestamp for e in trace]
        called: set[str] = set()
        for k, (before, after) in enumerate(itertools.pairwise(steps)):
            called.add(before[0])
            followers = self._next.get(before)
            rare = not followers or sum(followers.values()) < MIN_SUPPORT
            if timed and rare and not (after == _END and cut_off):
                found = self._component_blame(before, after, times, k)
                if found is not None:
                    return found
            if not followers:
                return Blame(before[0], "new", "", before[1])
            support = sum(followers.values())
            if after == _END and cut_off:
                return None
            if support < MIN_SUPPORT:
                continue
            likelihood = (followers[after] + SMOOTHING) / (support + 1.0)
            if likelihood >= UNLIKELY:
                continue
            expected = followers.most_common(1)[0][0]
            if timed and after != _END and before[0] != after[0]:
                usual = self._gaps.get((before, expected)) or usual_gap(
                    self._gaps, before, after, pooled=True
                )
                if usual is not None and self._late(times[k + 1] - times[k], usual):
                    return Blame(before[0], "late", before[1], after[1])
            if expected != _END and expected[0] not in called and expected[0] != after[0]:
                # the usual call into another component did not happen: it failed unlogged
                return Blame(expected[0], "missing", expected[1], after[1])
            if after == _END:
                return Blame(before[0], "stops", expected[1], "")
            return Blame(after[0], "deviates", expected[1], after[1])
        return None

    def _component_blame(
        self, before: tuple[str, str], after: tuple[str, str], times: Sequence[float], k: int
    ) -> Blame | None:
        """For a step rare in the baseline: requests that end after a component that is
        usually followed by another, or that another picks up late, point at it."""
        followers = self._next_component.get(before[0])
        support = sum(followers.values()) if followers else 0
        if not followers or support < MIN_SUPPORT:
            return None
        if after == _END:
            likelihood = (followers[""] + SMOOTHING) / (support + 1.0)
            usual_next = followers.most_common(1)[0][0]
            return Blame(before[0], "stops", usual_next, "") if likelihood < UNLIKELY else None
        if after[0] == before[0]:
            return None
        usual = usual_gap(self._gaps, before, after, pooled=True)
        if usual is not None and self._late(times[k + 1] - times[k], usual):
            return Blame(before[0], "late", before[1], after[1])
        return None

    @staticmethod
    def _late(gap: float, usual: tuple[float, float]) -> bool:
        return gap - usual[0] > LATE_SPREADS * usual[1]


def trace_evidence(
    baseline: Iterable[TraceEvent], current: Iterable[TraceEvent], candidates: bool = False
) -> dict[str, TraceEvidence]:
    """Flow blame, hand-off delay and late links of every component seen in the current
    window's traces. ``candidates``: also the candidates the protocol dropped (issue 4's untimed
    blame and exact-pair delay, stretch, the share of traces blamed, self time, the delay's
    tail), which only the generalisation benchmark asks for: a live investigation does not pay
    for them (``benchmarks/bench_trace_candidates.py``)."""
    base_traces = group_traces(baseline)
    cur_traces = group_traces(current)
    out: dict[str, TraceEvidence] = defaultdict(TraceEvidence)
    if not base_traces or not cur_traces:
        return {}
    model = FlowModel(base_traces)
    window_end = max(t[-1].timestamp for t in cur_traces)
    appearances: Counter[str] = Counter()
    for trace in cur_traces:
        cut_off = trace[-1].timestamp > window_end - EDGE_SECONDS
        found = model.blame(trace, cut_off=cut_off, timed=True)
        if found is not None:
            evidence = out[found.component]
            evidence.blamed += 1
            evidence.examples[(found.kind, found.expected, found.seen)] += 1
        if candidates:
            plain = model.blame(trace, cut_off=cut_off)
            if plain is not None:
                out[plain.component].blamed_untimed += 1
            for component in {e.component for e in trace}:
                appearances[component] += 1
    for component, (delay, seconds) in _step_delays(base_traces, cur_traces, pooled=True).items():
        out[component].delay = delay
        out[component].delay_seconds = seconds
    gaps = usual_gaps(base_traces, pooled=True)  # what late links and onsets compare with
    for component, (score, peer) in late_links(base_traces, cur_traces, gaps).items():
        out[component].late = score
        out[component].late_link = peer
    for component, moment in slow_onsets(base_traces, cur_traces, gaps).items():
        out[component].onset = moment
    if candidates:
        for component, evidence in out.items():
            evidence.traced = appearances[component]
        _dropped_candidates(out, base_traces, cur_traces)
    return dict(out)


def _dropped_candidates(
    out: dict[str, TraceEvidence],
    baseline: Sequence[Sequence[TraceEvent]],
    current: Sequence[Sequence[TraceEvent]],
) -> None:
    """The candidates the protocol dropped, kept so that the benchmark can show them: issue
    4's untimed blame's companions (the exact-pair delay), stretch, the delay's tail and the
    per-request self time. Marks ``out``'s evidence as carrying them (``candidates``)."""
    for component, (delay, _) in _step_delays(baseline, current).items():
        out[component].delay_exact = delay
    stretched = _step_delays(baseline, current, own=True, pooled=True)
    for component, (stretch, _) in stretched.items():
        out[component].stretch = stretch
    tails = _step_delays(baseline, current, pooled=True, q=TAIL_QUANTILE)
    for component, (tail, _) in tails.items():
        out[component].delay_tail = tail
    for component, (quartile, slow) in self_times(baseline, current).items():
        out[component].self_time = quartile
        out[component].self_slow = slow
    scores = _late_scores(baseline, current)
    for (component, _), score in scores.items():
        out[component].late_breadth += max(0.0, score - SLOW_SPREADS)
    graph = call_graph_evidence(scores, sorted(out))
    for component, (rank, unexplained, senders) in graph.items():
        out[component].graph_rank = rank
        out[component].late_unexplained = unexplained
        out[component].senders = senders
    for evidence in out.values():
        evidence.candidates = True


def call_graph_evidence(
    scores: dict[tuple[str, str], float], components: Sequence[str]
) -> dict[str, tuple[float, float, dict[str, float]]]:
    """Three readings of the anomalous call graph (issue 13, sixth pass; candidates only): the
    links whose hand-offs are slow more often than their baseline's past ``SLOW_SPREADS`` sigma
    (``_late_scores``; a link's weight is its score past that floor).

    - graph rank, in the spirit of MicroRCA (Wu et al., NOMS 2020; implemented here from the
      idea): a personalised PageRank whose walker, at a component, moves to the neighbours that
      handed it slow hand-offs (in proportion to how slow), and stays at one nobody handed slow
      work to (the walk ends where the slowness began); it restarts (``DAMPING``) at the
      components the anomalous links touch, in proportion to their links' weight. A component's
      value is its stationary share times the window's total anomalous-link weight (the share of
      the slow-link evidence the walk gives it, in the links' own units).
    - late unexplained (explanation by subtraction): its strongest late link past the floor,
      less the strongest late link into it (a component handed slow work answers late too:
      what it received explains that much of what it sends).
    - senders: the neighbours that handed it slow hand-offs, with their link's weight (what
      ``knowledge.ranking``'s ``explained`` rule reads)."""
    weights = {link: score - SLOW_SPREADS for link, score in scores.items()}
    weights = {link: w for link, w in weights.items() if w > 0}
    names = sorted(set(components) | {c for link in weights for c in link})
    index = {name: k for k, name in enumerate(names)}
    size = len(names)
    outgoing: dict[str, float] = defaultdict(float)
    incoming: dict[str, float] = defaultdict(float)
    senders: dict[str, dict[str, float]] = defaultdict(dict)
    for (sender, receiver), weight in weights.items():
        outgoing[sender] = max(outgoing[sender], weight)
        incoming[receiver] = max(incoming[receiver], weight)
        senders[receiver][sender] = weight
    total = sum(weights.values())
    ranks = [0.0] * size
    if total > 0:
        ranks = _personal_pagerank(weights, index, size)
    return {
        name: (
            ranks[index[name]] * total,
            max(0.0, outgoing[name] - incoming[name]),
            senders.get(name, {}),
        )
        for name in names
    }


DAMPING = 0.85  # PageRank's usual restart probability of 0.15, not tuned
PAGERANK_STEPS = 100  # power iterations (a namespace's few dozen components settle in far fewer)


def _personal_pagerank(
    weights: dict[tuple[str, str], float], index: dict[str, int], size: int
) -> list[float]:
    """The stationary distribution of the walk ``call_graph_evidence`` describes (power
    iteration with numpy; a graph of a namespace's components is small)."""
    move = np.zeros((size, size))  # move[to, from]
    restart = np.zeros(size)
    for (sender, receiver), weight in weights.items():
        move[index[sender], index[receiver]] += weight  # from the receiver back to the sender
        restart[index[sender]] += weight
        restart[index[receiver]] += weight
    sums = move.sum(axis=0)
    for k in np.flatnonzero(sums == 0):
        move[k, k] = 1.0  # nobody handed it slow work: the walk stays
    move /= move.sum(axis=0)
    restart /= restart.sum()
    rank = restart.copy()
    for _ in range(PAGERANK_STEPS):
        following = DAMPING * move @ rank + (1.0 - DAMPING) * restart
        if float(np.abs(following - rank).sum()) < 1e-12:
            rank = following
            break
        rank = following
    return [float(v) for v in rank]


def _own_times(trace: Sequence[TraceEvent]) -> dict[tuple[str, ...], float]:
    """A request's own time in each component: the gaps that start at its lines (its work
    between them and the hand-offs it sends), keyed by the component and the templates it
    logged in the request (the same work), not counting the time its callees take."""
    own: dict[str, float] = defaultdict(float)
    logged: dict[str, list[str]] = defaultdict(list)
    for before, after in itertools.pairwise(trace):
        own[before.component] += after.timestamp - before.timestamp
    for event in trace:
        logged[event.component].append(event.template)
    return {(c, *logged[c]): seconds for c, seconds in own.items()}


def self_times(
    baseline: Sequence[Sequence[TraceEvent]], current: Sequence[Sequence[TraceEvent]]
) -> dict[str, tuple[float, float]]:
    """Per component: the upper quartile of how much longer its own time per request is than
    the same work's in the baseline (in baseline spreads), and how much more often it is past
    ``SLOW_SPREADS`` spreads than in the baseline (square root of the Poisson deviance of the
    count). A request whose work in a component the baseline saw too rarely is judged against
    the component's requests that began with the same line, then against all of its requests."""
    samples: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for trace in baseline:
        for key, seconds in _own_times(trace).items():
            for pooled in (key, key[:2], key[:1]):
                samples[pooled].append(seconds)
    usual: dict[tuple[str, ...], tuple[float, float]] = {}
    for key, values in samples.items():
        if len(values) >= MIN_SUPPORT:
            median = statistics.median(values)
            mad = 1.4826 * statistics.median(abs(v - median) for v in values)
            usual[key] = (median, max(mad, 0.1 * median, CLOCK_RESOLUTION))

    def excesses(traces: Sequence[Sequence[TraceEvent]]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = defaultdict(list)
        for trace in traces:
            for key, seconds in _own_times(trace).items():
                known = next((usual[k] for k in (key, key[:2], key[:1]) if k in usual), None)
                if known is not None:
                    found[key[0]].append((seconds - known[0]) / known[1])
        return found

    base, cur = excesses(baseline), excesses(current)
    out: dict[str, tuple[float, float]] = {}
    for component, values in cur.items():
        if len(values) < MIN_HANDOFFS:
            continue
        n, slow = len(values), sum(v > SLOW_SPREADS for v in values)
        past = base.get(component, [])
        expected = n * (sum(v > SLOW_SPREADS for v in past) + SMOOTHING_LATE) / (len(past) + 1.0)
        score = 0.0
        if slow > expected:
            score = math.sqrt(2.0 * (slow * math.log(slow / expected) - (slow - expected)))
        out[component] = (quantile(values), score)
    return out


def _late_scores(
    baseline: Sequence[Sequence[TraceEvent]],
    current: Sequence[Sequence[TraceEvent]],
    usual: dict[_Key, tuple[float, float]] | None = None,
) -> dict[tuple[str, str], float]:
    """Per link (component, neighbour) with enough hand-offs, how much more often they are slow
    than the link's were in the baseline (``late_links``; ``usual``: the baseline's pooled usual
    gaps, when already computed)."""
    usual = usual_gaps(baseline, pooled=True) if usual is None else usual

    def tally(traces: Sequence[Sequence[TraceEvent]]) -> dict[tuple[str, str], list[int]]:
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for before, after in _steps(traces):
            found = usual_gap(usual, before.step, after.step, pooled=True)
            if found is None:
                continue
            link = counts[(before.component, after.component)]
            link[0] += 1
            link[1] += after.timestamp - before.timestamp - found[0] > SLOW_SPREADS * found[1]
        return counts

    base, cur = tally(baseline), tally(current)
    scores: dict[tuple[str, str], float] = {}
    for (component, peer), (n, slow) in cur.items():
        base_n, base_slow = base.get((component, peer), (0, 0))
        expected = n * (base_slow + SMOOTHING_LATE) / (base_n + 1.0)
        if n < MIN_HANDOFFS or slow <= expected:
            continue
        scores[(component, peer)] = math.sqrt(
            2.0 * (slow * math.log(slow / expected) - (slow - expected))
        )
    return scores


def slow_onsets(
    baseline: Sequence[Sequence[TraceEvent]],
    current: Sequence[Sequence[TraceEvent]],
    usual: dict[_Key, tuple[float, float]] | None = None,
) -> dict[str, float]:
    """Per component, when its hand-offs first became slow (``SLOW_SPREADS`` past the usual,
    pooled keys) more often than its own were in the baseline: walking the window's hand-offs
    in time order, the first at which the slow count so far is ``ONSET_SIGMAS`` deviance-sigmas
    over the baseline rate (the trace-timing part of onset order). ``usual``: the baseline's
    pooled usual gaps, when already computed."""
    usual = usual_gaps(baseline, pooled=True) if usual is None else usual

    def flagged(traces: Sequence[Sequence[TraceEvent]]) -> list[tuple[float, str, bool]]:
        found = []
        for before, after in _steps(traces):
            gap = usual_gap(usual, before.step, after.step, pooled=True)
            if gap is not None:
                excess = after.timestamp - before.timestamp - gap[0]
                found.append((after.timestamp, before.component, excess > SLOW_SPREADS * gap[1]))
        return sorted(found)

    base: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _, component, slow in flagged(baseline):
        base[component][0] += 1
        base[component][1] += slow
    seen: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    out: dict[str, float] = {}
    for moment, component, slow in flagged(current):
        if component in out:
            continue
        counts = seen[component]
        counts[0] += 1
        counts[1] += slow
        n, late = counts
        base_n, base_slow = base.get(component, (0, 0))
        expected = n * (base_slow + SMOOTHING_LATE) / (base_n + 1.0)
        if n < MIN_HANDOFFS or late <= expected:
            continue
        if 2.0 * (late * math.log(late / expected) - (late - expected)) >= ONSET_SIGMAS**2:
            out[component] = moment
    return out


def late_links(
    baseline: Sequence[Sequence[TraceEvent]],
    current: Sequence[Sequence[TraceEvent]],
    usual: dict[_Key, tuple[float, float]] | None = None,
) -> dict[str, tuple[float, str]]:
    """Per component, its link to one neighbour whose hand-offs are slow (``SLOW_SPREADS``
    baseline spreads past the usual, pooled keys) more often than the same link's were in the
    baseline: the square root of the Poisson deviance of the slow count, and that neighbour.

    The delay quartile misses a delay that makes only some requests late, or only the packets to
    one neighbour (a chaos tool's target), or is small beside the usual hand-off's own spread;
    counting slow hand-offs per link sees each: a fifth of fifty hand-offs slow where the
    baseline had none is as clear as all of them a little slower."""
    out: dict[str, tuple[float, str]] = {}
    for (component, peer), score in _late_scores(baseline, current, usual).items():
        if score > out.get(component, (0.0, ""))[0]:
            out[component] = (score, peer)
    return out


_Key = tuple[object, ...]


def _steps(
    traces: Iterable[Sequence[TraceEvent]], own: bool = False
) -> Iterable[tuple[TraceEvent, TraceEvent]]:
    """Consecutive lines of a trace: hand-offs from one component to another, or with ``own``
    the steps within one component (the two never overlap, so no gap counts twice)."""
    for trace in traces:
        for before, after in itertools.pairwise(trace):
            if (before.component == after.component) == own:
                yield before, after


def _keys(before: tuple[str, str], after: tuple[str, str], pooled: bool) -> list[_Key]:
    """What a step from ``before`` to ``after`` is compared with: the same pair of steps; when
    ``pooled``, failing that, the same step handing on to the same component, then any step
    of the one component followed by the other (a quiet service's exact pairs are too rare in
    a short baseline, its links to its neighbours are not)."""
    exact: list[_Key] = [(before, after)]
    if not pooled:
        return exact
    return [*exact, (before, after[0]), (before[0], after[0])]


def usual_gaps(
    traces: Iterable[Sequence[TraceEvent]], own: bool = False, pooled: bool = False
) -> dict[_Key, tuple[float, float]]:
    """The usual time from one step to the next (median, and a robust spread floored at a
    tenth of the median and the clock's resolution), for keys (``_keys``) seen often enough."""
    gaps: dict[_Key, list[float]] = defaultdict(list)
    for before, after in _steps(traces, own):
        for key in _keys(before.step, after.step, pooled):
            gaps[key].append(after.timestamp - before.timestamp)
    usual: dict[_Key, tuple[float, float]] = {}
    for kind, values in gaps.items():
        if len(values) >= MIN_SUPPORT:
            median = statistics.median(values)
            mad = 1.4826 * statistics.median(abs(v - median) for v in values)
            usual[kind] = (median, max(mad, 0.1 * median, CLOCK_RESOLUTION))
    return usual


def usual_gap(
    usual: dict[_Key, tuple[float, float]],
    before: tuple[str, str],
    after: tuple[str, str],
    pooled: bool,
) -> tuple[float, float] | None:
    """The most specific usual gap known for a step, if any."""
    for key in _keys(before, after, pooled):
        found = usual.get(key)
        if found is not None:
            return found
    return None


def _step_delays(
    baseline: Sequence[Sequence[TraceEvent]],
    current: Sequence[Sequence[TraceEvent]],
    own: bool = False,
    pooled: bool = False,
    q: float = DELAY_QUANTILE,
) -> dict[str, tuple[float, float]]:
    """Per component: the ``q`` quantile (the upper quartile unless said) of how much slower
    its hand-offs (or, with ``own``, the steps between its own lines) are than the same ones in
    the baseline (in baseline spreads, and in seconds). The component that sends is charged: a
    delayed network delays what a component sends."""
    usual = usual_gaps(baseline, own, pooled)
    slower: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for before, after in _steps(current, own):
        found = usual_gap(usual, before.step, after.step, pooled)
        if found is not None:
            excess = after.timestamp - before.timestamp - found[0]
            slower[before.component].append((excess / found[1], excess))
    return {
        component: (quantile([s for s, _ in values], q), quantile([e for _, e in values], q))
        for component, values in slower.items()
        if len(values) >= MIN_HANDOFFS
    }


def quantile(values: Sequence[float], q: float = DELAY_QUANTILE) -> float:
    """The ``q`` quantile of ``values`` (linear interpolation)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
