"""Root-cause ranking: which component (service) most likely started an incident, with evidence.

Each component gets up to eight kinds of evidence ("channels") from the incident window against a
baseline window:
- errors: new or surging warning/error templates (Poisson deviance against the baseline rate),
- drops: templates that stopped or fell behind their usual share of the component's logs (a code
  path that throws half-way stops logging before it reaches its next line),
- flow: request traces whose first deviation points at the component (``knowledge.traces``),
- delay: how much slower its hand-offs to other components got (``knowledge.traces``),
- late: how much more often its hand-offs to one neighbour are slow than that link's were (a
  delay on some requests only, on one edge only, or small beside the hand-off's own spread;
  ``knowledge.traces.late_links``), counted from 3 sigma on,
- saturation: sustained CPU deviation against the hour before, measured against how that metric
  usually deviates (the same statistic over earlier windows of the series),
- latency: latency metrics, only when no traces are available (a per-hop delay measured in the
  traces is direct; a pod's latency percentile mixes in every callee and idles at random values).
- onset: onset order - the minutes by which the component whose latency, errors or hand-off
  timing changed first (against its own history, traced back up to a quarter of an hour before
  the window) leads the next one; every later one gets nothing (it inherited the change).
- shift: any other metric's sustained deviation (error ratios, request rates, memory). Not
  scored by default: it did not raise the outer estimate on Nezha; the live screen
  (``knowledge.origins.screen``) uses it to choose whose logs to read.

Channels are fused without weights: each value is compared with what is usual for that component
in that channel - its own history of earlier windows when known, else its peers in this window -
as the log of the excess ratio, and the logs add up. A component that is always noisy in a channel
gains nothing from it; one that is quiet and now deviates in two channels leads. Ties between close
candidates go to the one that deviated first (anomalies propagate from the cause to its callers).

The flow blame is timed and the delay pooled since issue 13 (``knowledge.traces``), both kept
by the generalisation protocol (``benchmarks/generalization/rca.py``: the outer estimate rose
with each, by fault type and by hour). The candidates it measured (``CANDIDATE_CHANNELS``) are
computed only when the benchmark asks (``knowledge.traces.trace_evidence``'s ``candidates``; a
live investigation neither pays for them nor keeps them in its history) and scored only when
named in ``channels``: ``flow_untimed`` and ``delay_exact`` (issue 4's flow blame and hand-off
delay), ``stretch`` (the slowdown of the steps between a component's own lines) and
``flow_share`` (the flow blame as a percentage of the traces the component appears in);
``latency_traced`` (latency metrics even when traces exist) is a scoring rule, not a value. None
of the last three raised the outer estimate robustly.

``late`` joined the defaults in a second pass of issue 13, on a replay widened to delays of
some requests only, on one edge, small or echoed in the callers' metrics: the outer estimate
rose by fault type and by hour and the real incidents kept their ranks; ``late_raw`` (the same
count without the 3-sigma floor) cost a real incident and is computed only as a candidate.

``onset`` joined the defaults in a fifth pass, on a replay whose faults start 2-10 minutes
before their host incident's own (the staggered view): the outer AS@1 rose by fault type and by
hour, the real incidents kept their ranks (``benchmarks/generalization/rca.py``,
``onset_claims``).

A third pass tried latency evidence for slow-only faults, none of it kept (the outer estimate
did not rise by fault type, or the real incidents lost ranks): ``self_time`` and ``self_slow``
(a component's own time per request, its callees' excluded: the quartile of its excess, and how
much more often it is slow, from 3 sigma, history only) and ``delay_tail`` (the hand-off delay's
0.9 quantile). ``knowledge.traces`` computes them only when asked (``candidates``), so they are
absent on the live path. A fourth pass tried ``saturation_steady`` (the CPU z that half of the
window's samples reach: a rise that holds, not a burst; computed only for a window with
``candidates``), ``late_breadth`` (the late links past 3 sigma summed over all of a component's
links, history only) and a logistic regression over the channels' parts instead of the equal weights
(``benchmarks/generalization/rca.py``); neither raised the outer estimate. A sixth pass tried
the call graph (``knowledge.traces.call_graph_evidence``): ``graph_rank`` (a personalised
PageRank over the slow links, in the spirit of MicroRCA), ``late_unexplained`` (a late link less
the slowness handed to its sender), and two rules named like channels, ``explained`` (a
component a slow sender handed slow work to ranks no higher than that sender) and
``graph_rerank`` (the first ``SHOWN`` reordered by graph rank); none raised the outer estimate and
each but ``late_unexplained`` cost real incidents, so they are computed only for the benchmark.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from knowledge.templates import is_error
from knowledge.traces import TraceEvidence, quantile
from knowledge.vocabulary import default_vocabulary

# A metric's samples: (time, value) pairs, or the same as an (n, 2) array, which a live
# investigation passes as read (turning a wide namespace's series into tuples and back cost more
# than judging them).
MetricSamples = Sequence[tuple[float, float]] | npt.NDArray[np.float64]

SMOOTHING = 0.5
OUT_OF_BAND = 3.0  # |z| from which a metric point counts as deviating (for timing, evidence)
METRIC_BASELINE_SECONDS = 3600.0
METRIC_NULL_WINDOWS = 20  # earlier windows whose deviation tells what is usual for a metric
MIN_HISTORY = 3
USUAL_QUANTILE = 0.5
CLOSE = 0.9  # a candidate within 10% of the leader's score counts as tied for the time rule
SHOWN = 3
CLEAR_FALL = 4.0  # deviance from which a template's fall is named (about 2 sigma)
# a service's own past overrules the count-noise floor of a channel only when it fired that
# channel in so few windows that chance (half of them, as a count above its rate) would give
# that few less often than this (``_usual``); 0.001-0.1 rank Nezha and the simulator alike
QUIET_PAST = 0.05
SELF_MEASURED = frozenset(
    {"saturation", "latency", "shift", "saturation_steady"}
)  # judged against their own past
# judged only against the component's own history: a link's slow count in one fault-free minute
# varies from minute to minute far more than counting chance says (a busy link's is never zero),
# so a new deployment's peers are no yardstick for it
HISTORY_ONLY = frozenset(
    {"late", "late_raw", "self_slow", "late_breadth", "late_unexplained"}
)  # self_slow: a candidate
# computed whenever a component's logs are read; a window without them did not read its logs
LOG_CHANNELS = frozenset({"errors", "drops"})
DEFAULT_CHANNELS = frozenset(
    {"errors", "drops", "flow", "delay", "late", "saturation", "latency", "onset"}
)
# trace channels computed only when asked (``knowledge.traces.trace_evidence``'s ``candidates``):
# the benchmark's candidates, which the generalisation protocol dropped
CANDIDATE_CHANNELS = frozenset(
    {
        "flow_untimed",
        "delay_exact",
        "stretch",
        "late_raw",
        "self_time",
        "self_slow",
        "delay_tail",
        "flow_share",
        "saturation_steady",
        "late_breadth",
        "graph_rank",
        "late_unexplained",
    }
)
# a rule, not a value (sixth pass, a candidate): a component handed slow hand-offs by a
# neighbour ranks no higher than that neighbour (``_explained``)
EXPLAINED = "explained"
# a rule, not a value (sixth pass, second round, a candidate): the first ``SHOWN`` reordered by
# their graph rank against their own history (``_graph_rerank``)
GRAPH_RERANK = "graph_rerank"
ONSET_LOOKBACK = 900.0  # how far before the window a change that is still going is traced back
ONSET_RUN = 2  # consecutive out-of-band samples before a metric's change counts (not one spike)
ONSET_FAMILIES = frozenset({"latency", "errors"})  # the metric families onset order reads


@dataclass(frozen=True)
class ComponentWindow:
    """One component's logs (template counts) and metrics around an incident.

    ``metrics``: whole series by metric name, the incident window and the time before it (the
    deviation of a metric is judged against its own earlier windows). ``window``: the incident's
    [start, end) for the metrics. ``traces``: what request traces say about the component.
    """

    name: str
    baseline_templates: Mapping[str, int]
    current_templates: Mapping[str, int]
    baseline_minutes: float
    current_minutes: float
    metrics: Mapping[str, MetricSamples] = field(default_factory=dict)
    window: tuple[float, float] | None = None
    first_seen: Mapping[str, float] = field(default_factory=dict)  # template -> first timestamp
    traces: TraceEvidence | None = None
    candidates: bool = False  # also the metric candidates (``CANDIDATE_CHANNELS``), for benchmarks


@dataclass(frozen=True)
class Features:
    """A component's evidence: one number per channel, and what a responder should read."""

    channels: Mapping[str, float]
    first_deviation: float | None
    evidence: tuple[str, ...]
    abnormal_templates: tuple[str, ...]  # surging errors, then falling ones, then from traces
    # what count noise alone gives a channel in this window (``_error_noise``): the least its
    # usual can be, unless its own past is far quieter than that noise (``_usual``)
    noise: Mapping[str, float] = field(default_factory=dict)
    # when its latency, errors or hand-off timing first changed against its own history, looking
    # back before the window (``onset_of``); ``rank_components`` turns it into onset order
    onset: float | None = None
    # the neighbours that handed it slow hand-offs (a candidate, ``knowledge.traces``' senders)
    senders: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RankedCause:
    component: str
    score: float
    evidence: list[str]
    first_deviation: float | None
    channels: dict[str, float] = field(default_factory=dict)  # each channel's part of the score

    @property
    def signals(self) -> list[str]:
        """The kinds of evidence that clearly implicate the component, in words a metric
        family understands (``knowledge.matching.metric_family``)."""
        words = default_vocabulary().channel_words
        said = [
            words[c] for c, part in self.channels.items() if part >= CLEAR_SIGNAL and c in words
        ]
        return list(dict.fromkeys(said))  # two channels may say the same (delay, late)


CLEAR_SIGNAL = 1.0  # log excess ratio: e-fold more than usual


def _deviance(observed: float, expected: float) -> float:
    """Poisson deviance of one count against its expectation."""
    if observed <= 0:
        return 2.0 * expected
    return 2.0 * (observed * math.log(observed / expected) - (observed - expected))


def features(window: ComponentWindow) -> Features:
    """The evidence of one component, with what a responder should read."""
    channels: dict[str, float] = {}
    evidence: list[str] = []
    errors, surging = _error_surge(window)
    channels["errors"] = math.sqrt(errors)
    if surging:
        names = "; ".join(surging[:SHOWN])
        evidence.append(f"{len(surging)} new or surging error templates: {names}")
    drops, dropped = _drops(window)
    channels["drops"] = drops
    if dropped:
        shown = [f"{t} ({o} lines, ~{e:.0f} expected)" for t, o, e in dropped[:SHOWN]]
        evidence.append(f"logs less than usual: {'; '.join(shown)}")
    traced: list[str] = []
    if window.traces is not None:
        channels["flow"] = float(window.traces.blamed)
        channels["delay"] = max(0.0, window.traces.delay)
        # a link's slow count counts from where a deviation counts elsewhere (3 sigma): below
        # it, ordinary one-minute variation of a busy service's links outweighed the rest
        channels["late"] = max(0.0, window.traces.late - OUT_OF_BAND)
        if window.traces.candidates:
            channels.update(_candidate_channels(window.traces))
        evidence += window.traces.describe()
        traced = [t for _, *pair in window.traces.examples for t in pair if t]
    metrics = [_metric_deviation(name, s, window.window) for name, s in window.metrics.items()]
    found = sorted((m for m in metrics if m is not None), key=lambda m: -m.score)
    for kind in ("saturation", "latency", "shift"):
        scores = [m.score for m in found if m.kind == kind]
        if scores:
            channels[kind] = max(0.0, *scores)
    evidence += [m.describe() for m in found[:SHOWN] if m.score > 1.0]
    if window.candidates:  # a saturation that holds across the window (a candidate)
        steady = [
            _metric_deviation(name, s, window.window, steady=True)
            for name, s in window.metrics.items()
            if metric_kind(name) == "saturation"
        ]
        held = [m.score for m in steady if m is not None]
        if held:
            channels["saturation_steady"] = max(0.0, *held)
    firsts = [window.first_seen[t] for t in surging if t in window.first_seen]
    firsts += [m.first_out_of_band for m in found if m.first_out_of_band is not None]
    templates = [*surging, *(t for t, _, _ in dropped), *traced]
    return Features(
        channels=channels,
        first_deviation=min(firsts) if firsts else None,
        evidence=tuple(evidence),
        abnormal_templates=tuple(dict.fromkeys(templates)),
        noise={"errors": _error_noise(window)},
        onset=onset_of(window, surging),
        senders=dict(window.traces.senders) if window.traces is not None else {},
    )


def onset_of(window: ComponentWindow, surging: Sequence[str] = ()) -> float | None:
    """When the component's behaviour first changed against its own history: the earliest of
    its new error templates' first line (``surging`` ones the baseline never logged), the first
    time its hand-offs became slow too often (``knowledge.traces.slow_onsets``), and the start
    of the out-of-band run of a latency or error metric that reaches into the window, traced
    back up to ``ONSET_LOOKBACK`` before it (a slowdown nobody alerted on began before the
    alert's window)."""
    times = [
        window.first_seen[t]
        for t in surging
        if t in window.first_seen and not window.baseline_templates.get(t)
    ]
    if window.traces is not None and window.traces.onset is not None:
        times.append(window.traces.onset)
    if window.window is not None:
        vocabulary = default_vocabulary()
        for name, series in window.metrics.items():
            if vocabulary.family(name) in ONSET_FAMILIES and len(series):
                began = _metric_onset(np.asarray(series, dtype=np.float64), *window.window)
                if began is not None:
                    times.append(began)
    return min(times) if times else None


def _metric_onset(series: npt.NDArray[np.float64], start: float, end: float) -> float | None:
    """The first sample of the run of same-signed out-of-band samples (robust z against the
    hour before the lookback) that holds the window's first out-of-band sample, when the run is
    at least ``ONSET_RUN`` samples long."""
    series = series[np.argsort(series[:, 0], kind="stable")]
    times, values = series[:, 0], series[:, 1]
    look = start - ONSET_LOOKBACK
    low, mid, high = np.searchsorted(times, [look - METRIC_BASELINE_SECONDS, look, end])
    baseline = values[low:mid]
    if len(baseline) < MIN_HISTORY or high <= mid:
        return None
    median = float(np.median(baseline))
    mad = 1.4826 * float(np.median(np.abs(baseline - median)))
    zs = (values[mid:high] - median) / max(mad, 0.05 * abs(median), 1e-3)
    at = times[mid:high]
    out = np.abs(zs) >= OUT_OF_BAND
    inside = np.flatnonzero(out & (at >= start))
    if not len(inside):
        return None
    k = first = int(inside[0])
    sign = np.sign(zs[k])
    while first > 0 and out[first - 1] and np.sign(zs[first - 1]) == sign:
        first -= 1
    last = k
    while last + 1 < len(zs) and out[last + 1] and np.sign(zs[last + 1]) == sign:
        last += 1
    return float(at[first]) if last - first + 1 >= ONSET_RUN else None


def onset_leads(found: Mapping[str, Features]) -> dict[str, float]:
    """Onset order as a channel: the minutes by which the component that changed first leads
    the next one; every other component 0 (a caller that changed later inherited its change).
    Without two onsets there is no order."""
    began = sorted((f.onset, n) for n, f in found.items() if f.onset is not None)
    leads = {name: 0.0 for name in found}
    if len(began) >= 2:
        leads[began[0][1]] = (began[1][0] - began[0][0]) / 60.0
    return leads


def with_onsets(found: Mapping[str, Features]) -> Mapping[str, Features]:
    """``found`` with each component's onset lead as its ``onset`` channel (what the origin
    history keeps). A window without onset times (one read back from the history, which keeps
    the leads) is returned as it is."""
    if all(f.onset is None for f in found.values()):
        return found
    leads = onset_leads(found)
    return {
        name: replace(f, channels={**f.channels, "onset": leads[name]}) for name, f in found.items()
    }


def _candidate_channels(traces: TraceEvidence) -> dict[str, float]:
    """The trace channels the protocol dropped (``CANDIDATE_CHANNELS``), for the benchmark that
    compares them; a live investigation neither computes nor keeps them."""
    share = traces.blamed / max(traces.traced, 1)
    return {
        "flow_untimed": float(traces.blamed_untimed),
        "delay_exact": max(0.0, traces.delay_exact),
        "stretch": max(0.0, traces.stretch),
        "late_raw": traces.late,
        "self_time": max(0.0, traces.self_time),
        "self_slow": max(0.0, traces.self_slow - OUT_OF_BAND),
        "delay_tail": max(0.0, traces.delay_tail),
        "flow_share": 100.0 * share,
        "late_breadth": traces.late_breadth,
        "graph_rank": traces.graph_rank,
        "late_unexplained": traces.late_unexplained,
    }


def _error_surge(window: ComponentWindow) -> tuple[float, list[str]]:
    """Deviance of the warning-or-worse templates that grew, and those templates (largest
    first)."""
    base, cur = window.baseline_templates, window.current_templates
    scale = max(window.current_minutes, 1e-9) / max(window.baseline_minutes, 1e-9)
    parts = []
    for template, observed in cur.items():
        expected = (base.get(template, 0) + SMOOTHING) * scale
        if observed > expected and is_error(template):
            parts.append((_deviance(observed, expected), template))
    parts.sort(reverse=True)
    return sum(p for p, _ in parts), [t for _, t in parts]


def _error_noise(window: ComponentWindow) -> float:
    """The errors channel that count noise alone gives: the square root of the surge deviance
    expected were each warning-or-worse template of the baseline counted in the window at its
    baseline rate (Poisson). A service that logs retries every minute shows some surge in any
    half hour; read for the first time, it was judged against peers that log no warnings (usual
    0), and a half hour of retries at 1.6 times their rate read as a clear new surge."""
    base = window.baseline_templates
    scale = max(window.current_minutes, 1e-9) / max(window.baseline_minutes, 1e-9)
    rates = [(n + SMOOTHING) * scale for t, n in base.items() if n > 0 and is_error(t)]
    return math.sqrt(sum(_surge_noise(rate) for rate in rates))


def _surge_noise(expected: float) -> float:
    """The mean deviance above ``expected`` of a Poisson count with that mean (what
    ``_error_surge`` adds for a template that only varies by chance: about 0.5 for a busy one,
    less for a rare one)."""
    counts = np.arange(math.floor(expected) + 1, expected + 12.0 * math.sqrt(expected) + 12.0)
    chance = np.exp(counts * math.log(expected) - expected - gammaln(counts + 1.0))
    deviance = 2.0 * (counts * np.log(counts / expected) - (counts - expected))
    return float(np.sum(chance * deviance))


def _drops(window: ComponentWindow) -> tuple[float, list[tuple[str, int, float]]]:
    """How far templates fell below their usual share of the component's lines: the deviance
    of the falls per 100 current lines, square-rooted (a z-like number); and the templates that
    clearly fell (observed, expected), largest fall first."""
    base, cur = window.baseline_templates, window.current_templates
    base_total, cur_total = sum(base.values()), sum(cur.values())
    if not base_total or not cur_total:
        return 0.0, []
    templates = set(base) | set(cur)
    falls = []
    for template in templates:
        share = (base.get(template, 0) + SMOOTHING) / (base_total + SMOOTHING * len(templates))
        expected = cur_total * share
        observed = cur.get(template, 0)
        if observed < expected:
            falls.append((_deviance(observed, expected), template, observed, expected))
    falls.sort(reverse=True)
    clear = [(t, o, e) for d, t, o, e in falls if d >= CLEAR_FALL]
    return math.sqrt(100.0 * sum(f[0] for f in falls) / cur_total), clear


@dataclass(frozen=True)
class _MetricDeviation:
    name: str
    kind: str
    score: float  # how much more it deviates than it usually does
    z: float
    first_out_of_band: float | None

    def describe(self) -> str:
        return f"{self.name} {self.z:+.1f} robust z against the hour before"


def metric_kind(name: str) -> str:
    """Which channel a metric feeds, from its name (``saturation``, ``latency`` or ``other``;
    the patterns are data, in ``knowledge/vocabulary.yaml``)."""
    return default_vocabulary().channel(name)


def _metric_deviation(
    name: str, series: MetricSamples, window: tuple[float, float] | None, steady: bool = False
) -> _MetricDeviation | None:
    """The sustained deviation of a metric in the window (its second-largest robust z, so one
    odd sample is not enough; ``steady``: the z that half of the window's samples reach, so a
    rise must hold, a candidate), against the same statistic over earlier windows."""
    kind = metric_kind(name)
    kind = "shift" if kind == "other" else kind
    if window is None or not len(series):
        return None
    start, end = window
    length = end - start
    if isinstance(series, np.ndarray):
        times = np.asarray(series[:, 0], dtype=np.float64)
        values = np.asarray(series[:, 1], dtype=np.float64)
    else:
        times = np.array([ts for ts, _ in series], dtype=np.float64)
        values = np.array([v for _, v in series], dtype=np.float64)
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    found = _sustained_z(times, values, start, end, steady)
    if found is None:
        return None
    z, first = found
    earlier = np.arange(1, METRIC_NULL_WINDOWS + 1, dtype=np.float64) * length
    null = [
        abs(past) for past in _sustained_zs(times, values, start - earlier, end - earlier, steady)
    ]
    if len(null) >= MIN_HISTORY:
        past = np.array(null, dtype=np.float64)
        usual = float(_medians(past[None, :])[0])
        spread = 1.4826 * float(_medians(np.abs(past - usual)[None, :])[0])
        score = (abs(z) - usual) / max(spread, 0.1 * usual, 1e-3)
    else:
        score = min(abs(z), 10.0)
    return _MetricDeviation(name, kind, score, z, first)


def _sustained_z(
    times: np.ndarray, values: np.ndarray, start: float, end: float, steady: bool = False
) -> tuple[float, float | None] | None:
    low, mid, high = np.searchsorted(times, [start - METRIC_BASELINE_SECONDS, start, end])
    baseline = values[low:mid]
    current = values[mid:high]
    if len(baseline) < MIN_HISTORY or not len(current):
        return None
    median = float(_medians(baseline[None, :])[0])
    mad = 1.4826 * float(_medians(np.abs(baseline - median)[None, :])[0])
    zs = (current - median) / max(mad, 0.05 * abs(median), 1e-3)
    strongest = zs[np.argsort(-np.abs(zs), kind="stable")]
    outside = times[mid:high][np.abs(zs) >= OUT_OF_BAND]
    pick = len(zs) // 2 if steady else min(1, len(zs) - 1)
    return float(strongest[pick]), (float(outside[0]) if len(outside) else None)


def _sustained_zs(
    times: np.ndarray,
    values: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    steady: bool = False,
) -> list[float]:
    """``_sustained_z``'s statistic for many windows at once, those with enough data in order
    (the same numbers, bit for bit): the null windows of every metric of every candidate are
    most of a wide namespace's screening, and one numpy call per window costs more than its
    arithmetic. Windows holding as many baseline and current samples are computed together."""
    low = np.searchsorted(times, starts - METRIC_BASELINE_SECONDS)
    mid = np.searchsorted(times, starts)
    high = np.searchsorted(times, ends)
    sizes, counts = mid - low, high - mid
    usable = (sizes >= MIN_HISTORY) & (counts > 0)
    found = np.full(len(starts), np.nan)
    for size, count in {
        (int(b), int(c)) for b, c in zip(sizes[usable], counts[usable], strict=True)
    }:
        rows = np.flatnonzero(usable & (sizes == size) & (counts == count))
        baseline = values[low[rows, None] + np.arange(size)]
        current = values[mid[rows, None] + np.arange(count)]
        median = _medians(baseline)
        mad = 1.4826 * _medians(np.abs(baseline - median[:, None]))
        scale = np.maximum(np.maximum(mad, 0.05 * np.abs(median)), 1e-3)
        zs = (current - median[:, None]) / scale[:, None]
        pick = count // 2 if steady else min(1, count - 1)
        strongest = np.argsort(-np.abs(zs), axis=1, kind="stable")[:, pick]
        found[rows] = zs[np.arange(len(rows)), strongest]
    return [float(z) for z, ok in zip(found, usable, strict=True) if ok]


def _medians(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``np.median(rows, axis=1)``, the same numbers, without its generic machinery (most of
    its cost on rows this short): the middle order statistic or the mean of the two middle
    ones, NaN for a row holding a NaN."""
    half = rows.shape[1] // 2
    if rows.shape[1] % 2:
        found = np.partition(rows, half, axis=1)[:, half]
    else:
        part = np.partition(rows, (half - 1, half), axis=1)
        found = (part[:, half - 1] + part[:, half]) / 2.0
    return np.where(np.isnan(rows).any(axis=1), np.nan, found)


def rank_components(
    current: Mapping[str, Features],
    history: Sequence[Mapping[str, Features]] = (),
    channels: Collection[str] = DEFAULT_CHANNELS,
) -> list[RankedCause]:
    """Components by evidence, strongest first. ``history``: the same components' features in
    other windows, the yardstick of what is usual for each; without it, the other components of
    this window are the yardstick. ``channels``: the kinds of evidence scored (``latency`` counts
    only without traces unless ``latency_traced`` is named too)."""
    if "onset" in channels:
        current = with_onsets(current)
        history = [with_onsets(h) for h in history]
    traced = any("delay" in f.channels for f in current.values())
    parts: dict[str, dict[str, float]] = {}
    for name, found in current.items():
        parts[name] = {}
        for channel, value in found.channels.items():
            if channel not in channels:
                continue
            if channel == "latency" and traced and "latency_traced" not in channels:
                continue
            usual = _usual(channel, name, current, history)
            parts[name][channel] = math.log1p(max(0.0, value - usual) / (usual + 1.0))
    scores = {name: sum(p.values()) for name, p in parts.items()}
    order = sorted(scores, key=lambda n: (-scores[n], n))
    if EXPLAINED in channels:
        order = _explained(order, scores, current)
    order = _earliest_first(order, scores, current)
    if GRAPH_RERANK in channels:
        order = _graph_rerank(order, current, history)
    return [
        RankedCause(
            component=name,
            score=round(scores[name], 4),
            evidence=list(current[name].evidence),
            first_deviation=current[name].first_deviation,
            channels={c: round(v, 4) for c, v in parts[name].items() if v > 0},
        )
        for name in order
    ]


def _usual(
    channel: str,
    name: str,
    current: Mapping[str, Features],
    history: Sequence[Mapping[str, Features]],
) -> float:
    """The median of the component's own past values; without them, no evidence at all for a
    channel only its history can judge (``HISTORY_ONLY``: infinity), nothing for a metric
    channel (its value already measures the metric against its own earlier windows), else the
    median of its peers' (a service that is a victim of the same fault is a poor yardstick for
    a metric, but the only one for its logs) - though no less than count noise alone gives it
    in this window (``Features.noise``): peers that log no warnings are no yardstick for a
    service that logs retries every minute (its own past, once known, holds that noise and
    more) - and its own past too, unless that past fired the channel in fewer windows than chance
    would (a count above its rate about half the time; ``QUIET_PAST``): a healthy service's errors
    are 0 in most half hours, so the median of its first few read windows was 0 and any busy half
    hour read as e-fold (issue 14: with 45 neighbours' logs read some neighbour did so in most
    investigations), while one whose past is quiet far more often than chance allows (on Nezha,
    25 of 27 windows: its baseline rates overstate its noise) keeps its own yardstick. A log
    channel (``LOG_CHANNELS``) a window does not hold was not read there (a live
    investigation reads the logs of a few candidates only): it is unknown, not zero, so neither
    that window nor that peer counts (issue 14: a neighbour read for the first time was judged
    against the zeros of the windows its logs were never read in). Any other channel missing is 0,
    as it was: unknown for every channel cost an incident on Nezha (earlier-only AS@1 0.857 to
    0.821)."""
    past = [
        max(0.0, h[name].channels.get(channel, 0.0))
        for h in history
        if name in h and _read(h[name], channel)
    ]
    noise = current[name].noise.get(channel, 0.0)
    if len(past) >= MIN_HISTORY:
        usual = quantile(past, USUAL_QUANTILE)
        if noise > usual and _as_by_chance(sum(value > 0 for value in past), len(past)):
            return noise  # a short past of mostly zeros: chance, not a quiet service
        return usual
    if channel in HISTORY_ONLY:
        return math.inf
    if channel in SELF_MEASURED:
        return 0.0
    peers = [
        max(0.0, f.channels.get(channel, 0.0))
        for n, f in current.items()
        if n != name and _read(f, channel)
    ]
    return max(statistics.median(peers) if peers else 0.0, noise)


def _as_by_chance(fired: int, windows: int) -> bool:
    """Whether a channel that fired in ``fired`` of ``windows`` windows fired as often as chance
    would have it (the binomial tail at one half, at least ``QUIET_PAST``)."""
    few = sum(math.comb(windows, k) for k in range(fired + 1))
    return few / 2.0**windows >= QUIET_PAST


def _read(found: Features, channel: str) -> bool:
    """Whether ``found`` knows ``channel``: a log channel is always computed when the logs were
    read, so one missing was not read."""
    return channel in found.channels or channel not in LOG_CHANNELS


def _explained(
    order: list[str], scores: Mapping[str, float], current: Mapping[str, Features]
) -> list[str]:
    """A component its strongest slow sender explains (``Features.senders``: that neighbour
    handed it slow work) ranks right after that sender, unless it already ranks lower: its
    effective score is the least along the chain of senders (each link followed once), and a
    component deeper in the chain follows the one that explains it (a candidate rule)."""
    effective: dict[str, tuple[float, int]] = {}

    def resolve(name: str) -> tuple[float, int]:
        if name in effective:
            return effective[name]
        seen = [name]
        score, depth = scores[name], 0
        senders = current[name].senders
        while senders:
            sender = max(senders, key=lambda n: (senders[n], n))
            if sender in seen or sender not in scores or scores[sender] <= 0:
                break
            seen.append(sender)
            score, depth = min(score, scores[sender]), depth + 1
            senders = current[sender].senders
        effective[name] = (score, depth)
        return effective[name]

    return sorted(order, key=lambda n: (-resolve(n)[0], resolve(n)[1], -scores[n], n))


def _graph_rerank(
    order: list[str],
    current: Mapping[str, Features],
    history: Sequence[Mapping[str, Features]],
) -> list[str]:
    """The first ``SHOWN`` components reordered by how far their graph rank (``knowledge.traces``'
    ``call_graph_evidence``) exceeds what is usual for them (as a channel's part), ties keeping
    the fused order; the rest unchanged (a candidate rule: the walk back along slow links
    decides among the answers a responder is shown, not who is shown)."""
    top = order[:SHOWN]

    def part(name: str) -> float:
        value = current[name].channels.get("graph_rank", 0.0)
        usual = _usual("graph_rank", name, current, history)
        return math.log1p(max(0.0, value - usual) / (usual + 1.0))

    parts = {name: part(name) for name in top}
    return sorted(top, key=lambda n: -parts[n]) + order[SHOWN:]


def _earliest_first(
    order: list[str], scores: Mapping[str, float], current: Mapping[str, Features]
) -> list[str]:
    """Among the candidates tied with the leader, the one that deviated first leads."""
    if len(order) < 2 or scores[order[0]] <= 0:
        return order
    tied = [n for n in order if scores[n] >= CLOSE * scores[order[0]]]
    timed = [n for n in tied if current[n].first_deviation is not None]
    if len(timed) < 2:
        return order
    first = min(timed, key=lambda n: current[n].first_deviation or math.inf)
    return [first, *[n for n in order if n != first]]
