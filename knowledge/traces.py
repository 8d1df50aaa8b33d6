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
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

UNLIKELY = 0.05  # a successor seen in fewer than 5% of the baseline continuations deviates
MIN_SUPPORT = 3  # baseline occurrences of a step before its successors are judged
SMOOTHING = 0.1
EDGE_SECONDS = 3.0  # a trace ending this close to the window end may be cut off, not stopped
CLOCK_RESOLUTION = 0.001  # log timestamps are milliseconds at best
MIN_HANDOFFS = 5
DELAY_QUANTILE = 0.75  # most hand-offs of a delayed component are slow, not just a few
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
    kind: str  # "missing", "deviates", "stops", "new"
    expected: str
    seen: str


@dataclass
class TraceEvidence:
    """What the traces say about one component."""

    blamed: int = 0
    delay: float = 0.0  # upper quartile of its hand-offs' slowdown, in baseline spreads
    delay_seconds: float = 0.0
    examples: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def describe(self) -> list[str]:
        out = []
        if self.blamed and self.examples:
            (kind, expected, seen), _ = self.examples.most_common(1)[0]
            what = {
                "missing": f"the call that should log '{expected}' never arrived",
                "stops": f"requests stop after it instead of '{expected}'",
                "new": f"'{seen}' was never seen in the baseline",
            }.get(kind, f"'{seen}' instead of the usual '{expected}'")
            out.append(f"first deviation of {self.blamed} request traces ({what})")
        if self.delay_seconds >= CLOCK_RESOLUTION and self.delay > 1.0:
            out.append(f"hands requests on {1000 * self.delay_seconds:.0f} ms slower than usual")
        return out


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
        for trace in traces:
            steps = [_START, *(e.step for e in trace), _END]
            for before, after in itertools.pairwise(steps):
                self._next[before][after] += 1

    def blame(self, trace: Sequence[TraceEvent], cut_off: bool = False) -> Blame | None:
        """The first step of ``trace`` the baseline makes unlikely, and whom it points at.
        ``cut_off``: the trace may continue beyond the window, so its end proves nothing."""
        steps = [*(e.step for e in trace), _END]
        called: set[str] = set()
        for before, after in itertools.pairwise(steps):
            called.add(before[0])
            followers = self._next.get(before)
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
            if expected != _END and expected[0] not in called and expected[0] != after[0]:
                # the usual call into another component did not happen: it failed unlogged
                return Blame(expected[0], "missing", expected[1], after[1])
            if after == _END:
                return Blame(before[0], "stops", expected[1], "")
            return Blame(after[0], "deviates", expected[1], after[1])
        return None


def trace_evidence(
    baseline: Iterable[TraceEvent], current: Iterable[TraceEvent]
) -> dict[str, TraceEvidence]:
    """Flow blame and hand-off delay of every component seen in the current window's traces."""
    base_traces = group_traces(baseline)
    cur_traces = group_traces(current)
    out: dict[str, TraceEvidence] = defaultdict(TraceEvidence)
    if not base_traces or not cur_traces:
        return {}
    model = FlowModel(base_traces)
    window_end = max(t[-1].timestamp for t in cur_traces)
    for trace in cur_traces:
        found = model.blame(trace, cut_off=trace[-1].timestamp > window_end - EDGE_SECONDS)
        if found is not None:
            evidence = out[found.component]
            evidence.blamed += 1
            evidence.examples[(found.kind, found.expected, found.seen)] += 1
    for component, (delay, seconds) in _handoff_delays(base_traces, cur_traces).items():
        out[component].delay = delay
        out[component].delay_seconds = seconds
    return dict(out)


def _handoffs(traces: Iterable[Sequence[TraceEvent]]) -> Iterable[tuple[TraceEvent, TraceEvent]]:
    for trace in traces:
        for before, after in itertools.pairwise(trace):
            if before.component != after.component:
                yield before, after


def _handoff_delays(
    baseline: Sequence[Sequence[TraceEvent]], current: Sequence[Sequence[TraceEvent]]
) -> dict[str, tuple[float, float]]:
    """Per component: the upper quartile of how much slower its hand-offs are than the same
    hand-offs in the baseline (in baseline spreads, and in seconds). The component that sends
    is charged: a delayed network delays what a component sends."""
    gaps: dict[tuple[tuple[str, str], tuple[str, str]], list[float]] = defaultdict(list)
    for before, after in _handoffs(baseline):
        gaps[(before.step, after.step)].append(after.timestamp - before.timestamp)
    usual: dict[tuple[tuple[str, str], tuple[str, str]], tuple[float, float]] = {}
    for kind, values in gaps.items():
        if len(values) >= MIN_SUPPORT:
            median = statistics.median(values)
            mad = 1.4826 * statistics.median(abs(v - median) for v in values)
            usual[kind] = (median, max(mad, 0.1 * median, CLOCK_RESOLUTION))
    slower: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for before, after in _handoffs(current):
        found = usual.get((before.step, after.step))
        if found is not None:
            excess = after.timestamp - before.timestamp - found[0]
            slower[before.component].append((excess / found[1], excess))
    return {
        component: (quantile([s for s, _ in values]), quantile([e for _, e in values]))
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
