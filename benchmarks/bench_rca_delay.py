"""Root-cause ranking under faults the development split of Nezha has none of, replayed.

``benchmarks/generalization/rca_replay.py`` replays a fault on a service of each real incident
the way it would show: ``delay`` (a network delay on the pod: every packet it sends is late, so
its replies and its calls out, database included, are slow; 50 ms-1 s, or small beside its usual
hand-off, with jitter; for a share of the requests or on one edge only), ``timeout``
(1-3 s, past the callers' patience: requests are cut, the one that gave up logs a timeout half
the time) and ``slow`` (its own steps 2-11 times slower, CPU up half the time). The incident keeps
its own fault, left out of the ranking; the other incidents of the day serve as each service's
history, as in ``medic eval rca``. The script reports how often the replayed service ranks first
and in the top three, per kind, per size and per delay shape, under the default channels, the
fourth pass's (before onset order), issue 13's first pass (without ``late``) and issue 4's
(``--add``: also the defaults with more channels).
The same cases are the replayed fault types of ``benchmarks/bench_generalization.py --area rca``;
rows named "staggered" are the same faults started 2-10 minutes before their host's
(``rca_replay.stagger``), the others start with it.

Usage: python benchmarks/bench_rca_delay.py [--data DIR] [--cache DIR] [--json] [--add CHANNEL..]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.bench_generalization import default_data
from benchmarks.generalization.rca import (
    FIRST_PASS,
    FOURTH_PASS,
    ISSUE_4,
    NEZHA,
    cached_cases,
    positions,
)
from benchmarks.generalization.rca_replay import DELAYS, KINDS
from knowledge.ranking import DEFAULT_CHANNELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="bench-data root")
    parser.add_argument("--cache", type=Path, default=None, help="keep the cases here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--add", nargs="*", default=[], help="also rank with the defaults and these channels"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    everything = cached_cases(args.data / NEZHA, args.cache)  # the real ones are the history
    cases = [c for c in everything if c.fault_type in KINDS]
    rows = []
    sets = [("defaults", DEFAULT_CHANNELS), ("fourth pass", FOURTH_PASS)]
    sets += [("first pass", FIRST_PASS), ("issue 4", ISSUE_4)]
    sets += [(f"+{c}", DEFAULT_CHANNELS | {c}) for c in args.add if c not in DEFAULT_CHANNELS]
    for label, channels in sets:
        ranks = positions(everything, channels)
        by: dict[str, list[int | None]] = defaultdict(list)
        for case in cases:
            view = "" if case.view == "widened" else f"{case.view} "
            by[view + case.fault_type].append(ranks[case.id])
            if case.fault_type == "delay" and case.size < min(DELAYS):
                by[f"{view}delay small (relative to its hand-offs)"].append(ranks[case.id])
            else:
                by[f"{view}{case.fault_type} {case.size:g}"].append(ranks[case.id])
            for part in filter(None, case.shape.split(", ")):
                by[f"{view}delay {part}"].append(ranks[case.id])
        for what, found in sorted(by.items()):
            rows.append(
                {
                    "channels": label,
                    "cases": what,
                    "n": len(found),
                    "first": round(sum(r == 1 for r in found) / len(found), 4),
                    "top3": round(sum(r is not None and r <= 3 for r in found) / len(found), 4),
                }
            )
    if args.json:
        print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - started, 1)}))
        return
    print(f"{'channels':<10} {'cases':<40} {'n':>4} {'first':>7} {'top 3':>7}")
    for row in rows:
        print(
            f"{row['channels']:<10} {row['cases']:<40} {row['n']:>4} "
            f"{row['first']:>7.1%} {row['top3']:>7.1%}"
        )


if __name__ == "__main__":
    main()
