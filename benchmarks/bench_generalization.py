"""The generalisation protocol for every diagnosis evaluation (issue 13): dev score and outer
estimate side by side.

Each area (NAB detectors, Nezha root cause, similar incidents, loghub templates) lists its claims:
a candidate set of methods, chosen by nested validation over the groups a user's data differs by
(``benchmarks/generalization/protocol.py``). The dev score is the best candidate fitted and scored
on the whole development split; the outer estimate is what the choice scores on groups it never
saw. Baselines (Drain3 defaults, single detectors) are estimated in the same run.
Usage: python benchmarks/bench_generalization.py [--data DIR] [--area nab,rca,...] [--json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from benchmarks.generalization.protocol import Claim

REPO = Path(__file__).resolve().parents[1]
AREAS = {  # area -> module with ``claims(data: Path) -> list[Claim]``; data is bench-data/
    "nab": "benchmarks.generalization.nab",
    "rca": "benchmarks.generalization.rca",
    "similar": "benchmarks.generalization.similar",
    "templates": "benchmarks.generalization.templates",
}


def default_data() -> Path:
    """``../shared/bench-data`` from the main checkout, ``../../shared`` from a worktree."""
    for parent in (REPO.parent, REPO.parent.parent):
        if (parent / "shared" / "bench-data").is_dir():
            return parent / "shared" / "bench-data"
    return REPO.parent / "shared" / "bench-data"


def row(claim: Claim) -> dict[str, object]:
    e = claim.estimate
    return {
        "area": claim.area,
        "what": claim.what,
        "baseline": claim.baseline,
        "folds": f"{len(e.folds)} x {claim.groups}",
        "dev": round(e.dev_score, 4),
        "outer": round(e.outer_score, 4),
        "optimism": round(e.optimism, 4),
        "dev_choice": e.dev_choice,
        "outer_choices": e.choices(),
        "per_fold": {f.group: round(f.outer_score, 4) for f in e.folds},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument(
        "--area", default=",".join(AREAS), help="comma-separated: " + ", ".join(AREAS)
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per claim")
    args = parser.parse_args()
    areas = [a.strip() for a in args.area.split(",") if a.strip()]
    unknown = [a for a in areas if a not in AREAS]
    if unknown:
        print(f"unknown area {unknown[0]!r} (known: {', '.join(AREAS)})", file=sys.stderr)
        return 2
    if not args.data.is_dir():
        print(f"no bench data at {args.data} (give --data)", file=sys.stderr)
        return 2
    for area in areas:
        started = time.perf_counter()
        claims: list[Claim] = importlib.import_module(AREAS[area]).claims(args.data)
        seconds = time.perf_counter() - started
        if not args.json:
            print(f"== {area} ({seconds:.0f} s)")
            print(f"{'evaluation':<28} {'method':<44} {'folds':<16} {'dev':>8} {'outer':>8}")
        for claim in claims:
            r = row(claim)
            if args.json:
                print(json.dumps(r))
                continue
            mark = " (baseline)" if claim.baseline else ""
            print(
                f"{claim.area:<28} {(claim.what + mark)[:44]:<44} {r['folds']:<16} "
                f"{claim.estimate.dev_score:>8.3f} {claim.estimate.outer_score:>8.3f}"
            )
            print(f"{'':<28}   chosen: dev {r['dev_choice']}; outer {r['outer_choices']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
