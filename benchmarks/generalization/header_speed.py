"""Mining speed with and without header columns (the third pass on headers, issue 13).

Mines the as-is lines of the dev loghub systems with ``FIVE_PARTS`` (every token counts in
Drain's similarity) and with today's defaults (a source's header columns left out), alternating,
and prints the best lines per CPU-second of each: the baseline is measured in the same run.

Usage: PYTHONPATH=. python benchmarks/generalization/header_speed.py [--data DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from benchmarks.generalization.templates import DEV_SYSTEMS, FIVE_PARTS
from knowledge.evaluation.grouping import read_system
from knowledge.templates import MinerSettings, TemplateMiner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/bench-data"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    paths = [args.data / "loghub" / n / f"{n}_2k.log_structured.csv" for n in DEV_SYSTEMS]
    systems = [read_system(p)[0] for p in paths if p.is_file()]
    total = sum(len(c) for c in systems)
    best = {"header columns off": 0.0, "header columns on (defaults)": 0.0}
    settings = dict(zip(best, (FIVE_PARTS, MinerSettings()), strict=True))
    print(f"load average {os.getloadavg()[0]:.1f}, {total} lines")
    for _ in range(args.runs):
        for name, chosen in settings.items():
            start = time.process_time()
            for contents in systems:
                TemplateMiner(settings=chosen).templates_of(contents)
            best[name] = max(best[name], total / (time.process_time() - start))
    for name, rate in best.items():
        print(f"{name}: {rate:,.0f} lines per CPU-second (best of {args.runs})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
