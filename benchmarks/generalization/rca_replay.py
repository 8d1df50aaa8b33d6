"""Fault types the Nezha development split does not have, replayed on its real incidents.

Three dev fault types (exception, return, CPU contention) are too few to measure "a fault type
never seen", so synthetic ones are made from real incident windows and held out like the real
ones. Each replay changes one *target* service of a real incident (never its real root cause)
the way the fault would, in its logs, its request traces and its metrics; everything else in the
window stays as recorded, real fault included, so the target competes with real noise:

- ``delay``: a network delay on the target's pod as chaos tools inject it (``tc netem`` on the
  pod's interface): every packet the pod *sends* is late, so its replies to callers and its calls
  out (to other services and to its database) are slow, and what others send it is not. The
  replay shifts the rest of a trace after each of the target's hand-offs, and after a share of
  the gaps between its own lines (database round trips, which do not log). Its client latency and
  its callers' rise in the metrics. Sizes 50 ms-1 s with +-25% jitter (netem's ``offset``).
  Issue 4's replay of this kind predicted real delays far too well (58% first against 21%), so
  each delay also draws a *shape* (``draw``), independently: late for only a share of the
  requests (netem's probability, 100% / 50% / 20%); on one edge only (the packets to one
  neighbour, a chaos tool's ``target``), a third of the time; a size either absolute or small,
  relative to the target's own usual hand-off (0.5-2 times its median, often a few
  milliseconds); a jitter as large as the delay itself half the time (netem's ``jitter``); and
  half the time latency metrics that do not tell the target from its callers (the callers'
  server latency rises as much as the target's). No delay changes how many lines are logged.
- ``timeout``: a delay of 1-3 s, longer than a caller waits: the caller gives up on the target's
  late reply (or the target on a callee, whose answer its own late packets held up), and the
  rest of the request does not happen; half the time the one that gave up logs a read-timeout
  error, half the time nothing (whether logs change is what varies).
- ``slow``: saturation that is not CPU contention (a full thread pool, a slow disk, GC): every
  step of the target takes 2-11 times as long; half the time its CPU rises as well.

Idle targets show no change whatever the fault, so targets are drawn from the services with
traffic in the window. Everything is seeded: the same data give the same cases.

*Staggered* onsets (issue 13, fifth pass): the replays above start at their host incident's own
injection time, the moment the real fault's victims change too, so "which service changed first"
cannot be measured on them. A staggered replay is the same fault started ``stagger`` seconds
(2-10 minutes, from a crc32-seeded draw of the case's id) *before* the host's fault, and still
going at the window's end: nobody alerted on the slowdown, the host's fault raised the alert,
and the investigation's window is the alert's. Its metrics change from the earlier onset on; in
the logs (which exist only from the host's window on) every traced request of the window is
already affected, while the host fault's victims change only from its injection.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
import statistics
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from knowledge.evaluation.fault_data import FAULT_SECONDS, ServiceLogs
from knowledge.logs import LogLine

KINDS = ("delay", "timeout", "slow")
DELAYS = (0.05, 0.2, 0.5, 1.0)
RELATIVE_DELAYS = (0.5, 1.0, 2.0)  # a small delay: times the target's median hand-off
DELAY_SHARES = (1.0, 0.5, 0.2)  # share of the requests a delay makes late
JITTERS = (0.25, 1.0)
ONE_EDGE = 1 / 3  # chance a delay is on the packets to one neighbour only
MIN_DELAY = 0.002
TIMEOUT_DELAYS = (1.0, 2.0, 3.0)
CALLER_WAITS = (0.5, 1.0)
SLOWDOWNS = (2.0, 5.0, 11.0)
JITTER = 0.25
DB_SHARES = (0.0, 0.5)
STAGGER_SECONDS = (120.0, 600.0)  # a staggered replay starts this long before its host's fault
MIN_HANDOFFS = 5  # a target must hand requests on at least this often in the window
_CLIENT = re.compile(r"clientlatency", re.IGNORECASE)
_SERVER = re.compile(r"serverlatency", re.IGNORECASE)
_CPU = re.compile(r"^cpu", re.IGNORECASE)

Metrics = dict[str, dict[str, list[tuple[float, float]]]]


@dataclass(frozen=True)
class Fault:
    """One replayed fault: what, where, how large."""

    kind: str
    target: str
    size: float  # seconds of delay, or the slowdown factor
    caller_wait: float = 0.0  # timeout: how long a caller waits before it gives up
    logs_error: bool = False  # timeout: whether the caller logs it
    db_share: float = 0.0  # delay: share of the target's own gaps that cross the network
    cpu: bool = False  # slow: whether its CPU rises too
    share: float = 1.0  # delay: share of the requests it makes late
    peer: str = ""  # delay: only what the target sends this neighbour is late ("": everything)
    jitter: float = JITTER  # delay: the spread of a late step, a share of ``size``
    echo: bool = False  # delay: callers' server latency rises as much as the target's

    @property
    def shape(self) -> str:
        """A delay's shape in words (partial, one edge, wide jitter, echoed), "" for others."""
        if self.kind != "delay":
            return ""
        parts = [f"{self.share:.0%} of requests" if self.share < 1 else ""]
        parts += ["one edge" if self.peer else "", "wide jitter" if self.jitter >= 1 else ""]
        parts += ["echoed" if self.echo else ""]
        return ", ".join(p for p in parts if p) or "plain"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.target} {self.size:g}"


def active_services(logs: ServiceLogs, since: float) -> list[str]:
    """Services that hand requests on to another service at least ``MIN_HANDOFFS`` times in
    the traces after ``since`` (the ones a fault can show on)."""
    counts: dict[str, int] = defaultdict(int)
    for trace in _traces(logs).values():
        for (t1, s1, _), (_, s2, _) in itertools.pairwise(trace):
            if t1 >= since and s1 != s2:
                counts[s1] += 1
    return sorted(s for s, n in counts.items() if n >= MIN_HANDOFFS)


def draw(
    kind: str,
    target: str,
    rng: random.Random,
    usual: float = 0.0,
    neighbours: Sequence[str] = (),
) -> Fault:
    """A fault of ``kind`` on ``target`` with its size and variant drawn from ``rng``.
    ``usual``: the target's median hand-off in seconds (a small delay is relative to it);
    ``neighbours``: the services it exchanges requests with (a delay on one edge picks one)."""
    if kind == "delay":
        if usual > 0 and rng.random() < 0.5:
            size = max(MIN_DELAY, round(usual * rng.choice(RELATIVE_DELAYS), 4))
        else:
            size = rng.choice(DELAYS)
        one_edge = bool(neighbours) and rng.random() < ONE_EDGE
        return Fault(
            kind,
            target,
            size,
            db_share=0.0 if one_edge else rng.choice(DB_SHARES),
            share=rng.choice(DELAY_SHARES),
            peer=rng.choice(sorted(neighbours)) if one_edge else "",
            jitter=rng.choice(JITTERS),
            echo=rng.random() < 0.5,
        )
    if kind == "timeout":
        return Fault(
            kind,
            target,
            rng.choice(TIMEOUT_DELAYS),
            caller_wait=rng.choice(CALLER_WAITS),
            logs_error=rng.random() < 0.5,
        )
    if kind == "slow":
        return Fault(kind, target, rng.choice(SLOWDOWNS), cpu=rng.random() < 0.5)
    raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(KINDS)})")


def stagger(case_id: str) -> float:
    """How many seconds before its host's fault a staggered replay starts (``STAGGER_SECONDS``),
    drawn from a generator seeded with the case id's crc32 (the same on every run and
    interpreter, whatever else is drawn)."""
    return random.Random(zlib.crc32(case_id.encode())).uniform(*STAGGER_SECONDS)


def replay(
    fault: Fault,
    logs: ServiceLogs,
    metrics: Metrics,
    baseline: ServiceLogs,
    since: float,
    rng: random.Random,
    until: float | None = None,
) -> tuple[ServiceLogs, Metrics]:
    """The incident window's logs and metrics as they would be with ``fault`` from ``since``
    until ``until`` (default: ``FAULT_SECONDS`` after ``since``; a staggered replay starts
    earlier and lasts as long as its host's window)."""
    callers = _callers(baseline, fault.target)
    new_logs = _retimed(fault, logs, since, rng)
    end = since + FAULT_SECONDS if until is None else until
    changed = {service: dict(series) for service, series in metrics.items()}
    if fault.kind in ("delay", "timeout"):
        added = min(fault.size, fault.caller_wait or fault.size)
        if fault.peer in callers:  # one edge to a caller: only that caller waits on it
            callers = {fault.peer}
        for service, extra in [(fault.target, fault.size), *((c, added) for c in callers)]:
            _shift(changed, service, _CLIENT, extra, since, end)
        own = fault.size if fault.echo else fault.size * fault.db_share
        _shift(changed, fault.target, _SERVER, own, since, end)
        for caller in callers:
            _shift(changed, caller, _SERVER, added, since, end)
    elif fault.kind == "slow":
        _scale(changed, fault.target, _SERVER, fault.size, since, end)
        if fault.cpu:
            _scale(changed, fault.target, _CPU, 3.0, since, end)
    return new_logs, changed


def usual_handoff(logs: ServiceLogs, target: str) -> float:
    """The median time from one of ``target``'s lines to another service's next line in a
    trace of ``logs`` (0 when it never hands off)."""
    gaps = [
        t2 - t1
        for trace in _traces(logs).values()
        for (t1, s1, _), (t2, s2, _) in itertools.pairwise(trace)
        if s1 == target and s2 != target
    ]
    return statistics.median(gaps) if gaps else 0.0


def neighbours(logs: ServiceLogs, target: str) -> set[str]:
    """The services right before or after one of ``target``'s lines in a trace of ``logs``."""
    found = set()
    for trace in _traces(logs).values():
        for (_, s1, _), (_, s2, _) in itertools.pairwise(trace):
            if target in (s1, s2) and s1 != s2:
                found.add(s2 if s1 == target else s1)
    return found


def _traces(logs: ServiceLogs) -> dict[str, list[tuple[float, str, int]]]:
    """Trace id -> its lines as (time, service, index in the service's lines), in time order."""
    traces: dict[str, list[tuple[float, str, int]]] = defaultdict(list)
    for service, lines in logs.lines.items():
        for i, line in enumerate(lines):
            trace_id = logs.traces[service][i]
            if trace_id:
                traces[trace_id].append((line.timestamp, service, i))
    for events in traces.values():
        events.sort()
    return traces


def _callers(baseline: ServiceLogs, target: str) -> set[str]:
    """Services whose line comes right before one of ``target``'s in a baseline trace."""
    found = set()
    for trace in _traces(baseline).values():
        for (_, s1, _), (_, s2, _) in itertools.pairwise(trace):
            if s2 == target and s1 != target:
                found.add(s1)
    return found


def _retimed(fault: Fault, logs: ServiceLogs, since: float, rng: random.Random) -> ServiceLogs:
    """Each trace re-timed (and for timeouts cut, with the caller's error) under ``fault``."""
    moved: dict[tuple[str, int], float] = {}
    dropped: set[tuple[str, int]] = set()
    added: list[tuple[str, LogLine, str]] = []
    for trace_id, trace in _traces(logs).items():
        shift = 0.0
        seen: set[str] = set()
        spared = fault.share < 1.0 and rng.random() >= fault.share
        for k, (timestamp, service, i) in enumerate(trace):
            moved[(service, i)] = timestamp + shift
            seen.add(service)
            after = trace[k + 1][1] if k + 1 < len(trace) else ""
            # one edge: only what the target sends that neighbour is late
            elsewhere = bool(fault.peer) and after != fault.peer
            if not after or timestamp < since or service != fault.target or spared or elsewhere:
                continue
            gap = trace[k + 1][0] - timestamp
            late = max(0.0, fault.size * (1.0 + rng.uniform(-fault.jitter, fault.jitter)))
            if fault.kind == "slow":
                shift += (fault.size - 1.0) * gap
            elif after != service:
                if fault.kind == "timeout" and late > fault.caller_wait:
                    # a reply: the caller gives up on the target; a call out: the target
                    # gives up on its callee, whose answer its own late packets held up
                    waiting, on = (after, service) if after in seen else (service, after)
                    if fault.logs_error:
                        when = timestamp + shift + fault.caller_wait
                        added.append((waiting, _timeout_line(waiting, on, when), trace_id))
                    dropped.update((s, j) for _, s, j in trace[k + 1 :])
                    break
                shift += late
            elif rng.random() < fault.db_share:
                shift += late
    out = ServiceLogs(bad_rows=logs.bad_rows)
    for service, lines in logs.lines.items():
        for i, line in enumerate(lines):
            if (service, i) in dropped:
                continue
            when = moved.get((service, i), line.timestamp)
            out.lines[service].append(dataclasses.replace(line, timestamp=when))
            out.traces[service].append(logs.traces[service][i])
    for service, line, trace_id in added:
        out.lines[service].append(line)
        out.traces[service].append(trace_id)
    return out


def _timeout_line(caller: str, target: str, when: float) -> LogLine:
    """The error a Spring caller logs when its call times out."""
    message = (
        f"o.s.w.c.RestTemplate [call][I/O error on POST request for "
        f'"http://{target}:8080/api/v1": Read timed out; nested exception is '
        "java.net.SocketTimeoutException: Read timed out]"
    )
    return LogLine(when, message, "ERROR", caller)


def _matching(metrics: Metrics, service: str, pattern: re.Pattern[str]) -> Iterable[str]:
    return [name for name in metrics.get(service, {}) if pattern.search(name)]


def _shift(
    metrics: Metrics,
    service: str,
    pattern: re.Pattern[str],
    extra: float,
    start: float,
    end: float,
) -> None:
    if extra <= 0:
        return
    for name in _matching(metrics, service, pattern):
        metrics[service][name] = [
            (ts, v + extra if start <= ts < end else v) for ts, v in metrics[service][name]
        ]


def _scale(
    metrics: Metrics,
    service: str,
    pattern: re.Pattern[str],
    factor: float,
    start: float,
    end: float,
) -> None:
    for name in _matching(metrics, service, pattern):
        metrics[service][name] = [
            (ts, v * factor if start <= ts < end else v) for ts, v in metrics[service][name]
        ]
