"""Root-cause ranking under a network delay, which the development split of Nezha has none of.

A network delay on a pod slows every packet it sends. This script replays it on real incidents:
in the fault window of an incident, every time a target service hands a request on to another
service (its call or its reply), the rest of that request's trace is shifted later by ``--delay``
seconds. The incident keeps its own fault, so the delayed service competes with a real root cause;
the script reports how often the delayed service ranks first and in the top three, the other
incidents of the day serving as each service's history as in ``medic eval rca``.

Usage: python benchmarks/bench_rca_delay.py [--data DIR] [--delay SECONDS] [--incidents N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections import defaultdict
from pathlib import Path

from knowledge.evaluation.fault_data import ServiceLogs, load_index, read_logs, read_metrics
from knowledge.evaluation.rca import incident_features
from knowledge.ranking import rank_components
from knowledge.templates import TemplateMiner

REPO = Path(__file__).resolve().parents[1]
DATA = (
    next(  # ../shared/bench-data beside the checkout (or beside the worktrees' folder)
        (
            p / "shared" / "bench-data"
            for p in (REPO.parent, REPO.parent.parent)
            if (p / "shared").is_dir()
        ),
        REPO.parent / "shared" / "bench-data",
    )
    / "rca"
    / "nezha"
)
TARGETS = [
    "ts-basic-service",
    "ts-contacts-service",
    "ts-food-service",
    "ts-preserve-service",
    "ts-price-service",
    "ts-route-service",
    "ts-security-service",
    "ts-travel-service",
    "ts-travel2-service",
    "ts-verification-code-service",
]


def delayed(logs: ServiceLogs, service: str, since: float, delay: float) -> ServiceLogs:
    """``logs`` with every hand-off of ``service`` after ``since`` taking ``delay`` longer."""
    events = defaultdict(list)
    for name, lines in logs.lines.items():
        for i, line in enumerate(lines):
            if logs.traces[name][i]:
                events[logs.traces[name][i]].append((line.timestamp, name, i))
    moved: dict[tuple[str, int], float] = {}
    for trace in events.values():
        trace.sort()
        shift = 0.0
        for k, (timestamp, name, i) in enumerate(trace):
            moved[(name, i)] = timestamp + shift
            handing_off = k + 1 < len(trace) and trace[k + 1][1] != name
            if timestamp >= since and name == service and handing_off:
                shift += delay
    out = ServiceLogs()
    for name, lines in logs.lines.items():
        for i, line in enumerate(lines):
            when = moved.get((name, i), line.timestamp)
            out.lines[name].append(dataclasses.replace(line, timestamp=when))
            out.traces[name].append(logs.traces[name][i])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--incidents", type=int, default=8, help="incidents used as background")
    args = parser.parse_args()
    started = time.perf_counter()
    incidents = load_index(args.data)
    miner = TemplateMiner()
    metrics = {i.metric_dir: read_metrics(i.metric_dir) for i in incidents}
    logs = {i.id: (read_logs(i.baseline_log_files), read_logs(i.log_files)) for i in incidents}
    found = {
        i.id: incident_features(i, *logs[i.id], metrics[i.metric_dir], miner) for i in incidents
    }
    step = max(1, len(incidents) // args.incidents)
    positions = []
    for incident in incidents[::step][: args.incidents]:
        history = [f for other, f in found.items() if other != incident.id]
        base, current = logs[incident.id]
        for target in [t for t in TARGETS if t != incident.root_cause]:
            slowed = delayed(current, target, incident.inject_time, args.delay)
            features = incident_features(
                incident, base, slowed, metrics[incident.metric_dir], miner
            )
            order = [r.component for r in rank_components(features, history)]
            positions.append(order.index(target) + 1 if target in order else None)
    hits = [p for p in positions if p is not None]
    print(
        json.dumps(
            {
                "delay_s": args.delay,
                "cases": len(positions),
                "delayed_service_first": round(sum(p == 1 for p in hits) / len(positions), 4),
                "delayed_service_top3": round(sum(p <= 3 for p in hits) / len(positions), 4),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
