"""What the origin ranking is worth with the history a deployment has (issue 14), on Nezha through
the live path (the live defaults' reading: ``knowledge.evaluation.rca.screened_evidence``), and
whether a baseline read before the suspect window helps a first investigation - chosen with the
nested protocol of issue 13 (``benchmarks.generalization.protocol``: outer by fault type and by
hour; a component stays only if the outer estimate rises).

History modes (``knowledge.evaluation.rca.history_ranks``): ``fresh`` (none), ``earlier_only``
(the incidents before, in time order, as the state database accumulates them), ``leave_one_out``.

The baseline tried: each service compared with itself in windows cut from what an investigation
has already read before its suspect window - the baseline's log lines (templates and traces),
cut in ``SLICES`` slices each judged against the rest, and its metrics in the ``SLICES`` windows
of the same length before the suspect one - used as history while the namespace has fewer than
``MIN_HISTORY`` earlier investigations. No extra read: the lines and series are the ones the
line budget and ``log_seconds`` already allowed. Also the live path with ``log_seconds`` emulated
for log sources of ``--speeds`` lines a second (``knowledge.evaluation.rca.LogSpeed``), with three
reads at once (as before) and eight (a remote store now), chosen by the same protocol. And the
leaders kept with the history (``knowledge.origins.rank_origins``' ``leaders``): each service's
yardstick without the windows it led when it has at least ``K`` others (else all of them; ``K``
None: every window, as before), and a second pass with the led windows left out when the first
pass's leader is not clearly implicated (by anything, by two kinds of evidence, or beyond its
metrics - the live rule, with ``K`` None); ``K`` and the pass chosen in the inner folds. And the
errors channel's noise floor (``knowledge.ranking.Features.noise``: a service's usual errors are
at least what Poisson count noise at its baseline rates gives), against the same ranking without
it. And that floor over a service's own past (``knowledge.ranking.QUIET_PAST``: kept unless the
past fired the channel in fewer windows than chance would, at a binomial tail level chosen in the
inner folds among ``QUIET_LEVELS``), against the own past's median alone. Prints JSON; about 5
minutes on 2 quiet cores.
Usage: PYTHONPATH=. python benchmarks/bench_origin_history.py [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import knowledge.ranking
from benchmarks.bench_nezha_live import protocol_report
from bot.config import InvestigationSettings
from knowledge.evaluation.fault_data import (
    FAULT_SECONDS,
    NezhaIncident,
    ServiceLogs,
    load_index,
    read_logs,
    read_metrics,
)
from knowledge.evaluation.rca import (
    GAP_SECONDS,
    HISTORY_MODES,
    LOG_CANDIDATES,
    MAX_LOG_LINES,
    LogSpeed,
    MinedIncident,
    _events,
    history_ranks,
    mine_incident,
    screened_evidence,
)
from knowledge.logs import IN_PROCESS_READS, REMOTE_READS
from knowledge.origins import Origin, leader_of, led_out, rank_origins
from knowledge.ranking import (
    CLEAR_SIGNAL,
    MIN_HISTORY,
    ComponentWindow,
    Features,
    features,
    rank_components,
)
from knowledge.templates import TemplateMiner
from knowledge.traces import trace_evidence

SLICES = 4
FLOORS = (1, 2, 3, 5, 8)  # the floors of windows not led that the inner folds choose among
QUIET_LEVELS = (0.01, 0.05, 0.1)  # the binomial tail levels of a quiet own past, to choose among
Ranks = dict[str, int | None]
Found = Mapping[str, Features]


def self_baseline(mined: MinedIncident, slices: int = SLICES) -> list[dict[str, Features]]:
    """``slices`` windows of each service against itself, from before the suspect window."""
    incident = mined.incident
    start = incident.inject_time
    end = start + FAULT_SECONDS + GAP_SECONDS
    length = end - start
    stamps = [line.timestamp for lines in mined.base.lines.values() for line in lines]
    if not stamps:
        return []
    first, last = min(stamps), max(stamps) + 1e-3
    width = (last - first) / slices
    out: list[dict[str, Features]] = []
    for k in range(slices):
        lo, hi = first + k * width, first + (k + 1) * width
        rest, cut = ServiceLogs(), ServiceLogs()
        rest_t: dict[str, list[str]] = {}
        cut_t: dict[str, list[str]] = {}
        for service in mined.services:
            lines = mined.base.lines.get(service, [])
            for line, template, trace in zip(
                lines,
                mined.base_templates[service],
                mined.base.traces.get(service, []),
                strict=True,
            ):
                side, names = (cut, cut_t) if lo <= line.timestamp < hi else (rest, rest_t)
                side.lines[service].append(line)
                side.traces[service].append(trace)
                names.setdefault(service, []).append(template)
        for names in (rest_t, cut_t):
            for service in mined.services:
                names.setdefault(service, [])
        traces = trace_evidence(
            _events(rest, rest_t, mined.services), _events(cut, cut_t, mined.services)
        )
        shift = (k + 1) * length
        found: dict[str, Features] = {}
        for service in mined.services:
            now = cut_t[service]
            first_seen: dict[str, float] = {}
            for template, line in zip(now, cut.lines.get(service, []), strict=True):
                first_seen.setdefault(template, line.timestamp)
            window = ComponentWindow(
                name=service,
                baseline_templates=Counter(rest_t[service]),
                current_templates=Counter(now),
                baseline_minutes=(last - first - width) / 60.0,
                current_minutes=width / 60.0,
                metrics={
                    name: [(ts, v) for ts, v in points if ts < end - shift]
                    for name, points in mined.metrics.get(service, {}).items()
                },
                window=(start - shift, end - shift),
                first_seen=first_seen,
                traces=traces.get(service),
            )
            found[service] = features(window)
        out.append(found)
    return out


def with_baseline(
    incidents: Sequence[NezhaIncident],
    found: Sequence[Found],
    baselines: Sequence[Sequence[Found]],
    earlier: bool,
) -> Ranks:
    """Ranks when the self-baseline stands in while fewer than ``MIN_HISTORY`` earlier
    investigations are kept (``earlier``: the earlier incidents are kept; else none)."""
    order = sorted(range(len(incidents)), key=lambda k: (incidents[k].inject_time, k))
    out: Ranks = {}
    for position, i in enumerate(order):
        history: list[Found] = [found[j] for j in order[:position]] if earlier else []
        if len(history) < MIN_HISTORY:
            history = [*history, *baselines[i]]
        names = [o.service for o in rank_origins(found[i], history)]
        root = incidents[i].root_cause
        out[incidents[i].id] = names.index(root) + 1 if root in names else None
    return out


def normal_windows(
    history: Sequence[Found], leaders: Sequence[str | None], floor: int
) -> list[Found]:
    """Each service's windows it did not lead, when it has at least ``floor`` of them; else all
    its windows (a job that always fails keeps a yardstick)."""
    count = Counter(name for found in history for name in found)
    led = Counter(leader for leader in leaders if leader is not None)
    enough = [name for name in led if count[name] - led[name] >= floor]
    return led_out(history, [leader if leader in enough else None for leader in leaders])


SECOND_PASS = {  # the leader of the first pass that keeps it: the second is done when it is not
    "clear": lambda o: o.clear,  # any clear evidence
    "two kinds": lambda o: sum(p >= CLEAR_SIGNAL for p in o.cause.channels.values()) >= 2,
    "beyond metrics": lambda o: o.beyond_metrics,  # the live rule
}


def with_leaders(
    incidents: Sequence[NezhaIncident],
    found: Sequence[Found],
    floor: int | None,
    second_pass: str | None,
) -> dict[str, Ranks]:
    """Earlier-only and leave-one-out ranks with each incident kept with the origin it was named
    when investigated (in time order); ``floor``: windows not led a service needs for them to be
    its yardstick (None: every window is, the leaders unused in the first pass);
    ``second_pass``: rank again without the led windows when the first leader is not what
    ``SECOND_PASS`` names (None: no second pass)."""

    def rank(current: Found, history: list[Found], leaders: list[str | None]) -> list[Origin]:
        kept = normal_windows(history, leaders, floor) if floor is not None else history
        ranked = [Origin(c) for c in rank_components(current, kept)]
        if second_pass is None:
            return ranked
        if any(leaders) and ranked and not SECOND_PASS[second_pass](ranked[0]):
            ranked = [Origin(c) for c in rank_components(current, led_out(history, leaders))]
        return ranked

    def position(i: int, ranked: list[Origin]) -> int | None:
        names = [o.service for o in ranked]
        root = incidents[i].root_cause
        return names.index(root) + 1 if root in names else None

    order = sorted(range(len(incidents)), key=lambda k: (incidents[k].inject_time, k))
    leaders: dict[int, str | None] = {}
    earlier: Ranks = {}
    for at, i in enumerate(order):
        ranked = rank(found[i], [found[j] for j in order[:at]], [leaders[j] for j in order[:at]])
        leaders[i] = leader_of(ranked)
        earlier[incidents[i].id] = position(i, ranked)
    others: Ranks = {}
    for i in order:
        rest = [j for j in order if j != i]
        ranked = rank(found[i], [found[j] for j in rest], [leaders[j] for j in rest])
        others[incidents[i].id] = position(i, ranked)
    return {"earlier_only": earlier, "leave_one_out": others}


def quiet_levels(incidents: Sequence[NezhaIncident], found: Sequence[Found]) -> dict[str, Ranks]:
    """The history modes' ranks with the count-noise floor over a short own past at each level
    of ``QUIET_LEVELS`` (``knowledge.ranking.QUIET_PAST``), and at none (inf: the own past's
    median alone, as before)."""
    shipped = knowledge.ranking.QUIET_PAST
    table: dict[str, Ranks] = {}
    try:
        for level in (math.inf, *QUIET_LEVELS):
            knowledge.ranking.QUIET_PAST = level
            for mode, ranks in history_ranks(incidents, found).items():
                table[f"{mode}, own past floor {level:g}"] = ranks
    finally:
        knowledge.ranking.QUIET_PAST = shipped
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/bench-data/rca/nezha"))
    parser.add_argument("--slices", type=int, default=SLICES)
    parser.add_argument("--speeds", type=float, nargs="*", default=[2_000.0, 20_000.0])
    parser.add_argument("--log-seconds", type=float, default=InvestigationSettings().log_seconds)
    args = parser.parse_args()
    incidents = load_index(args.data)
    metrics = {d: read_metrics(d) for d in {i.metric_dir for i in incidents}}
    bases = {tuple(i.baseline_log_files): read_logs(i.baseline_log_files) for i in incidents}
    miner = TemplateMiner()
    mined = [
        mine_incident(
            i, bases[tuple(i.baseline_log_files)], read_logs(i.log_files), metrics[i.metric_dir],
            miner,
        )
        for i in incidents
    ]  # fmt: skip
    found = [screened_evidence(m, LOG_CANDIDATES, MAX_LOG_LINES, miner) for m in mined]
    baselines = [self_baseline(m, args.slices) for m in mined]
    table: dict[str, Ranks] = dict(history_ranks(incidents, found))
    unfloored = [{name: replace(f, noise={}) for name, f in one.items()} for one in found]
    for mode, ranks in history_ranks(incidents, unfloored).items():
        table[f"{mode}, no noise floor"] = ranks
    table |= quiet_levels(incidents, found)
    table["fresh + baseline"] = with_baseline(incidents, found, baselines, earlier=False)
    table["earlier_only + baseline"] = with_baseline(incidents, found, baselines, earlier=True)
    rules: dict[str, tuple[int | None, str | None]] = {"no leaders": (None, None)}
    for k in (None, *FLOORS):
        for second in (None, *SECOND_PASS):
            if (k, second) != (None, None):
                rules[f"floor {k}, second pass {second}"] = (k, second)
    for rule, (floor, second) in rules.items():
        for mode, ranks in with_leaders(incidents, found, floor, second).items():
            table[f"{mode}, {rule}"] = ranks
    for rate in args.speeds:  # the time for logs, at the live log_seconds, for a source this fast
        for readers in sorted({IN_PROCESS_READS, REMOTE_READS}):  # reads at once: before, now
            speed = LogSpeed(args.log_seconds, rate, readers=readers)
            timed = [
                screened_evidence(m, LOG_CANDIDATES, MAX_LOG_LINES, miner, speed) for m in mined
            ]
            for mode, ranks in history_ranks(incidents, timed).items():
                table[f"{mode}, {rate:.0f} lines/s, {args.log_seconds:g} s, {readers} at once"] = (
                    ranks
                )

    steps = {
        f"{mode}, {rate:.0f} lines/s: {REMOTE_READS} reads at once": (
            [f"{mode}, {rate:.0f} lines/s, {args.log_seconds:g} s, {IN_PROCESS_READS} at once"],
            [
                f"{mode}, {rate:.0f} lines/s, {args.log_seconds:g} s, {n} at once"
                for n in (IN_PROCESS_READS, REMOTE_READS)
            ],
        )
        for rate in args.speeds
        for mode in HISTORY_MODES
    }
    steps |= {
        "a baseline for a first investigation": (["fresh"], ["fresh", "fresh + baseline"]),
        "a baseline while the history is short": (
            ["earlier_only"],
            ["earlier_only", "earlier_only + baseline"],
        ),
    }
    for mode in ("earlier_only", "leave_one_out"):
        steps[f"{mode}: leaders kept, floor and second pass chosen"] = (
            [f"{mode}, no leaders"],
            [f"{mode}, {rule}" for rule in rules if rule != "no leaders"],
        )
        steps[f"{mode}: leaders kept, second pass beyond metrics, floor chosen"] = (
            [f"{mode}, no leaders"],
            [f"{mode}, floor {k}, second pass beyond metrics" for k in (None, *FLOORS)],
        )
        steps[f"{mode}: leaders kept, the live rule"] = (
            [f"{mode}, no leaders"],
            [f"{mode}, floor None, second pass beyond metrics"],
        )
        steps[f"{mode}: noise floor over a short own past"] = (
            [f"{mode}, own past floor inf"],
            [f"{mode}, own past floor {level:g}" for level in (math.inf, *QUIET_LEVELS)],
        )
    for mode in HISTORY_MODES:
        steps[f"{mode}: errors noise floor"] = (
            [f"{mode}, no noise floor"],
            [f"{mode}, no noise floor", mode],
        )
    report = protocol_report(incidents, table, steps)
    for mode in ("fresh", "earlier_only", "leave_one_out"):  # no choice made: dev is outer
        report[f"{mode} | outer"] = "same as dev: nothing is chosen on the data"
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
