"""Root-cause ranking under faults the development split of Nezha has none of, replayed.

``benchmarks/generalization/rca_replay.py`` replays a fault on a service of each real incident
the way it would show: ``delay`` (a network delay on the pod: every packet it sends is late, so
its replies and its calls out, database included, are slow; 50 ms-1 s with jitter), ``timeout``
(1-3 s, past the callers' patience: requests are cut, the one that gave up logs a timeout half
the time) and ``slow`` (its own steps 2-11 times slower, CPU up half the time). The incident keeps
its own fault, left out of the ranking; the other incidents of the day serve as each service's
history, as in ``medic eval rca``. The script reports how often the replayed service ranks first
and in the top three, per kind and per size, under the default channels and under issue 4's.
The same cases are the replayed fault types of ``benchmarks/bench_generalization.py --area rca``.

Usage: python benchmarks/bench_rca_delay.py [--data DIR] [--cache DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.bench_generalization import default_data
from benchmarks.generalization.rca import ISSUE_4, NEZHA, cached_cases, positions
from benchmarks.generalization.rca_replay import KINDS
from knowledge.ranking import DEFAULT_CHANNELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="bench-data root")
    parser.add_argument("--cache", type=Path, default=None, help="keep the cases here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    everything = cached_cases(args.data / NEZHA, args.cache)  # the real ones are the history
    cases = [c for c in everything if c.fault_type in KINDS]
    rows = []
    for label, channels in (("defaults", DEFAULT_CHANNELS), ("issue 4", ISSUE_4)):
        ranks = positions(everything, channels)
        by: dict[str, list[int | None]] = defaultdict(list)
        for case in cases:
            by[case.fault_type].append(ranks[case.id])
            by[f"{case.fault_type} {case.size:g}"].append(ranks[case.id])
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
    print(f"{'channels':<10} {'cases':<24} {'n':>4} {'first':>7} {'top 3':>7}")
    for row in rows:
        print(
            f"{row['channels']:<10} {row['cases']:<24} {row['n']:>4} "
            f"{row['first']:>7.1%} {row['top3']:>7.1%}"
        )


if __name__ == "__main__":
    main()
