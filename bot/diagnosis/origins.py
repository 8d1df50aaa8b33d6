"""Which service the fault started in, for a live investigation: the services around the alerting
one (``bot.diagnosis.candidates``) ranked by the same code ``medic eval rca`` measures
(``knowledge.origins``).

The fan-out is bounded: at most ``investigation.max_candidates`` services, each read for its
metrics first (cheap, in parallel), then the logs of up to ``log_candidates`` of them in the
order the metrics rank them, within ``log_seconds`` (the alerting service's are read already),
as many at once as the source serves (``knowledge.logs.concurrent_reads``: eight from a remote
store, three from one that makes its lines in this process).
Logs are read for many, not a few, because the faults the Nezha data holds (exceptions, wrong
returns, delays) show in a service's logs and traces long before its few metrics move. All
services together keep at most ``max_log_lines`` lines: each its fair share, the loudest thinned
evenly (``knowledge.logs.fair_share``, ``spread``). A candidate whose metrics or logs cannot be
read is ranked on what was read, and the notes say so once.

Where those logs carry trace ids (``knowledge.traces.trace_id_of``), the lines of the services
read are joined into request traces, and the flow and hand-off delay that ``medic eval rca``
scores on Nezha's traces are scored live too: a callee that got slow to answer shows as its own
delay, not as its callers' latency.

Each service is ranked against its own evidence in the namespace's earlier investigations
(``OriginHistory``: in the state database for the flow, ``bot.diagnosis.origin_store``), as the
evaluation ranks each incident against the others, and each earlier investigation is kept with
the origin it named, so a fault that recurs is not taken for its service's usual
(``knowledge.origins.rank_origins``). A history that cannot be read or written is one note; the
services are then ranked against each other, and the investigation goes on.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot import messages
from bot.config import InvestigationSettings
from bot.diagnosis.budget import Budget
from bot.diagnosis.candidates import Candidate, candidates
from bot.diagnosis.origin_history import (
    HistoryUnavailableError,
    MemoryHistory,
    OriginHistory,
    Recalled,
)
from bot.diagnosis.window import Window
from detectors import MetricSource, MetricSourceError, PartialMetricsError, Series
from knowledge import (
    KnowledgeError,
    LogLine,
    LogSource,
    TemplateMiner,
    TraceEvent,
    trace_events,
    trace_evidence,
)
from knowledge.logs import REMOTE_READS, concurrent_reads, fair_share, spread
from knowledge.origins import Origin, leader_of, metrics_only, rank_origins, screen
from knowledge.ranking import (
    METRIC_BASELINE_SECONDS,
    METRIC_NULL_WINDOWS,
    ComponentWindow,
    Features,
    MetricSamples,
    with_onsets,
)
from knowledge.ranking import features as evidence_of
from tools import ToolError

READERS = 8  # candidates whose metrics are read at once
LOG_READERS = REMOTE_READS  # candidates whose logs are read at once from a remote store: each
# read mostly waits on the network, so with three a 0.05 s request alone let only 18 start within
# log_seconds (0.3 s) - too few of 46 for Nezha's faults, which only the logs show. A source that
# draws its lines in this process (the simulator) says fewer (``knowledge.logs.concurrent_reads``).


class Directory(Protocol):
    """Names the workloads of a namespace (the cluster's Deployments and StatefulSets, the
    services a metric source has series for)."""

    def workloads(self, namespace: str, limit: int) -> list[str]: ...


CallGraph = Callable[[str], Mapping[str, Sequence[str]]]  # namespace -> service -> its callees


@dataclass(frozen=True)
class Origins:
    """The ranked services (most likely origin first), how each relates to the alerting one,
    which had their logs read, and the known calls among them (kept with the diagnosis, so "why
    not X?" can say whether X calls the origin, also after a restart)."""

    ranked: list[Origin]
    relations: Mapping[str, Candidate]
    with_logs: frozenset[str]
    calls: Mapping[str, list[str]] = field(default_factory=dict)  # among the candidates

    def relation(self, service: str) -> Candidate | None:
        return self.relations.get(service)


class OriginFinder:
    def __init__(
        self,
        metrics: MetricSource,
        logs: LogSource,
        directories: Sequence[Directory],
        graphs: Sequence[CallGraph],
        settings: InvestigationSettings,
        history: OriginHistory | None = None,
    ) -> None:
        self._metrics = metrics
        self._logs = logs
        self._directories = directories
        self._graphs = graphs
        self._settings = settings
        self._history = history if history is not None else MemoryHistory(settings.origin_history)

    def graph(self, namespace: str) -> dict[str, list[str]]:
        """Every known call edge of ``namespace``: each source's edges, merged."""
        merged: dict[str, list[str]] = {}
        for source in self._graphs:
            for caller, callees in source(namespace).items():
                known = merged.setdefault(caller, [])
                known += [c for c in callees if c not in known and c != caller]
        return merged

    def find(
        self,
        namespace: str,
        service: str,
        window: Window,
        own_lines: Sequence[LogLine],
        miner: TemplateMiner,
        budget: Budget,
        notes: list[str],
        lines_read: dict[str, list[LogLine]] | None = None,
    ) -> Origins:
        """The candidates around ``service`` ranked in ``window`` (``own_lines``: the alerting
        service's logs, already read). ``lines_read``, when given, is left holding the lines read
        per service, so a closer look at the origin does not read its logs again."""
        graph = self.graph(namespace)
        workloads = self._workloads(namespace, notes)
        around = candidates(service, workloads, graph, self._settings.max_candidates)
        relations = {c.service: c for c in around}
        if len(around) < 2:
            return Origins([], relations, frozenset())
        series = self._read_metrics(namespace, [c.service for c in around], window, budget)
        unread = [c.service for c in around if c.service not in series]
        if series and unread:
            notes.append(messages.CANDIDATES_NOT_READ.format(count=len(unread), names=_few(unread)))
        screened = {
            name: evidence_of(_window(name, window, metrics=s)) for name, s in series.items()
        }
        chosen = screen(screened, self._settings.log_candidates, always={service})
        lines = lines_read if lines_read is not None else {}
        lines[service] = list(own_lines)
        others = [name for name in chosen if name != service]
        lines |= self._read_all_logs(namespace, others, window, budget, notes)
        most = fair_share([len(got) for got in lines.values()], self._settings.max_log_lines)
        for name, got in lines.items():
            lines[name] = spread(got, max(most, 1))
        found = {name: metrics_only(f) for name, f in screened.items()}  # logs read: replaced below
        windows: dict[str, ComponentWindow] = {}
        before: list[TraceEvent] = []  # the traced lines of the services read, in the baseline
        after: list[TraceEvent] = []  # and in the window
        for name, read in lines.items():
            baseline = [x for x in read if x.timestamp < window.split]
            current = [x for x in read if x.timestamp >= window.split]
            baseline_templates = miner.templates_of(baseline)
            current_templates = miner.templates_of(current)
            first_seen: dict[str, float] = {}
            for template, line in zip(current_templates, current, strict=True):
                first_seen.setdefault(template, line.timestamp)
            windows[name] = _window(
                name,
                window,
                metrics=series.get(name, {}),
                baseline=Counter(baseline_templates),
                current=Counter(current_templates),
                first_seen=first_seen,
            )
            before += trace_events(name, baseline, baseline_templates)
            after += trace_events(name, current, current_templates)
        traces = trace_evidence(before, after)
        for name, component in windows.items():
            found[name] = evidence_of(replace(component, traces=traces.get(name)))
        among = {
            caller: [c for c in callees if c in relations]
            for caller, callees in graph.items()
            if caller in relations and any(c in relations for c in callees)
        }
        past = self._recall(namespace, notes)
        ranked = rank_origins(found, past.windows, graph=graph, leaders=past.leaders)
        self._keep(namespace, with_onsets(found), leader_of(ranked), notes)  # onset leads kept
        return Origins(ranked, relations, frozenset(lines), among)

    def _recall(self, namespace: str, notes: list[str]) -> Recalled:
        try:
            return self._history.recall(namespace)
        except HistoryUnavailableError as exc:
            notes.append(messages.ORIGIN_HISTORY_UNREAD.format(why=exc))
            return Recalled([], [])

    def _keep(
        self,
        namespace: str,
        found: Mapping[str, Features],
        leader: str | None,
        notes: list[str],
    ) -> None:
        try:
            self._history.keep(namespace, found, leader)
        except HistoryUnavailableError as exc:
            if not any(str(exc) in note for note in notes):  # one note for a database down
                notes.append(messages.ORIGIN_HISTORY_UNKEPT.format(why=exc))

    def _workloads(self, namespace: str, notes: list[str]) -> list[str]:
        names: list[str] = []
        for directory in self._directories:
            try:
                names += directory.workloads(namespace, self._settings.max_candidates)
            except (ToolError, MetricSourceError, KnowledgeError) as exc:
                if not any(str(exc) in note for note in notes):  # a server down is named once
                    notes.append(messages.WORKLOADS_UNAVAILABLE.format(why=exc))
        return sorted(set(names))

    def _read_metrics(
        self, namespace: str, names: Sequence[str], window: Window, budget: Budget
    ) -> dict[str, dict[str, npt.NDArray[np.float64]]]:
        """Each candidate's metrics, from as far back as the ranking compares them with (its own
        earlier windows), within the longest window an investigation reads."""
        length = max(window.end - window.split, 60.0)
        reach = window.split - METRIC_BASELINE_SECONDS - METRIC_NULL_WINDOWS * length
        reach = max(reach, window.end - 60.0 * self._settings.max_window_minutes)
        time_left = budget.share()

        def read(name: str) -> tuple[str, list[Series] | None]:
            if time_left() <= 0:
                return name, None
            try:
                return name, self._metrics.fetch(
                    namespace, name, reach, window.end, time_left=time_left
                )
            except PartialMetricsError as exc:
                return name, exc.series
            except (MetricSourceError, ToolError):
                return name, None

        first = read(names[0])  # the alerting service: when its metrics cannot be read, the
        if first[1] is None:  # source is down, and the others are not tried (already noted)
            return {}
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            read_all = [first, *pool.map(read, names[1:])]
        return {
            name: {s.metric: np.column_stack((s.timestamps, s.values)) for s in got}
            for name, got in read_all
            if got is not None
        }

    def _read_all_logs(
        self,
        namespace: str,
        names: Sequence[str],
        window: Window,
        budget: Budget,
        notes: list[str],
    ) -> dict[str, list[LogLine]]:
        """The logs of ``names``, asked for in that order (the strongest on metrics first) while
        ``log_seconds`` have not passed - a read once started may take the investigation's share
        of time, so the first candidates are read even from a slow source; one note for those not
        reached, one per source error."""
        share = budget.share()
        deadline = time.monotonic() + self._settings.log_seconds

        def in_time(name: str) -> tuple[list[LogLine] | None, str]:
            if time.monotonic() >= deadline:
                return None, ""
            return self._read_logs(namespace, name, window, share)

        readers = min(max(len(names), 1), concurrent_reads(self._logs))
        with ThreadPoolExecutor(max_workers=readers) as pool:
            answers = list(pool.map(in_time, names))
        read: dict[str, list[LogLine]] = {}
        late: list[str] = []
        failed: dict[str, list[str]] = {}  # why -> the services it kept unread
        for name, (got, why) in zip(names, answers, strict=True):
            if why:
                failed.setdefault(why, []).append(name)
            if got is None:
                late.append(name)
            else:
                read[name] = got
        for why, unread in failed.items():  # a log source down is one note, not one a service
            notes.append(
                messages.CANDIDATE_LOGS_UNAVAILABLE.format(service=unread[0], why=why)
                if len(unread) == 1
                else messages.CANDIDATES_LOGS_UNAVAILABLE.format(
                    count=len(unread), names=_few(unread), why=why
                )
            )
        if late:
            notes.append(messages.CANDIDATE_LOGS_LATE.format(count=len(late), names=_few(late)))
        return read

    def _read_logs(
        self, namespace: str, name: str, window: Window, time_left: Callable[[], float]
    ) -> tuple[list[LogLine] | None, str]:
        """A candidate's log lines (None: no time was left to ask), and why its logs could not
        be read."""
        if time_left() <= 0:
            return None, ""
        try:
            lines = self._logs.fetch(
                namespace, name, window.baseline_start, window.end, time_left=time_left
            )
        except (KnowledgeError, ToolError) as exc:
            return [], str(exc) or type(exc).__name__
        return spread(lines, self._settings.max_log_lines), ""


def _window(
    name: str,
    window: Window,
    metrics: Mapping[str, MetricSamples],
    baseline: Mapping[str, int] | None = None,
    current: Mapping[str, int] | None = None,
    first_seen: Mapping[str, float] | None = None,
) -> ComponentWindow:
    return ComponentWindow(
        name=name,
        baseline_templates=baseline or {},
        current_templates=current or {},
        baseline_minutes=(window.split - window.baseline_start) / 60.0,
        current_minutes=(window.end - window.split) / 60.0,
        metrics=metrics,
        window=(window.split, window.end),
        first_seen=first_seen or {},
    )


def _few(names: Sequence[str], shown: int = 3) -> str:
    more = len(names) - shown
    listed = ", ".join(names[:shown])
    return f"{listed} ({messages.AND_MORE.format(count=more)})" if more > 0 else listed
