"""What a source's own choice of switches costs (the sixth pass on headers, issue 13).

Mines the as-is lines of the dev loghub systems with the switches fixed (the defaults before the
sixth pass: ``source_choice=None``) and with today's defaults (each source mines its first 1,000
lines under the six switch combinations once, then keeps one), alternating, and prints the best
lines per CPU-second of each and the peak memory Python allocated while mining: the baseline is
measured in the same run. Two layouts: each system a source of its own (2,000 lines: every
source pays the choice, the worst case), and all systems as one long source (the choice is paid
once, then each line costs what it did).

Usage: PYTHONPATH=. python benchmarks/generalization/choice_speed.py [--data DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from benchmarks.generalization.templates import DEV_SYSTEMS
from knowledge.evaluation.grouping import read_system
from knowledge.templates import MinerSettings, TemplateMiner

SETTINGS = {
    "switches fixed (before)": MinerSettings(source_choice=None),
    "each source chooses (defaults)": MinerSettings(),
}


def _mine(batches: Sequence[list[str]], settings: MinerSettings) -> None:
    for contents in batches:
        TemplateMiner(settings=settings).templates_of(contents)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/bench-data"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    paths = [args.data / "loghub" / n / f"{n}_2k.log_structured.csv" for n in DEV_SYSTEMS]
    systems = [read_system(p)[0] for p in paths if p.is_file()]
    layouts = {
        "a source per system": systems,
        "one long source": [[line for contents in systems for line in contents]],
    }
    total = sum(len(c) for c in systems)
    print(f"load average {os.getloadavg()[0]:.1f}, {total} lines")
    for layout, batches in layouts.items():
        best = dict.fromkeys(SETTINGS, 0.0)
        for _ in range(args.runs):
            for name, settings in SETTINGS.items():
                start = time.process_time()
                _mine(batches, settings)
                best[name] = max(best[name], total / (time.process_time() - start))
        for name, settings in SETTINGS.items():
            tracemalloc.start()
            _mine(batches, settings)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(
                f"{layout}, {name}: {best[name]:,.0f} lines per CPU-second (best of "
                f"{args.runs}), peak {peak / 2**20:.1f} MiB"
            )
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
