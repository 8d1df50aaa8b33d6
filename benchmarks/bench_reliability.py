"""Issue 11's reliability targets, each part measured by its own module in
``benchmarks/reliability/`` and printed beside its target:

- ``fuzz``: >= 100,000 fuzzed requests over every input surface: 0 5xx, 0 unescaped mentions;
- ``crash``: >= 200 approve -> execute cycles killed (-9) at seeded random points: 0 double
  executions, 0 lost approvals, 0 actions left ``executing``;
- ``duplicates``: >= 200 notifications delivered to two replicas at once: 0 duplicate incidents,
  0 threads without a diagnosis;
- ``storm``: 10,000 alerts in 10 minutes over 1,000 groups on 2 replicas: none lost, RSS of each
  `medic serve` <= 1 GiB;
- ``fuzzcli``: hostile `medic act` / `medic investigate` arguments, configuration files,
  MEDIC_* variables, policy and runbook YAML: 0 tracebacks, 0 wrong exit codes, 0 unclear
  errors, 0 inputs over the time or memory budget;
- ``bounds``: an investigation from an absurd but accepted alert time peaks at the RSS of a fresh
  one (+100 MiB); `medic serve` exits within 30 s of SIGTERM, even mid-investigation.

Each part prints its numbers (and a baseline measured in the same run where one applies) and the
script ends with one JSON line. Usage:
  python benchmarks/bench_reliability.py [--parts fuzz,crash,duplicates,...,fuzzcli] [options]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PARTS = ("fuzz", "crash", "duplicates", "storm", "bounds", "fuzzcli")


def _load(name: str) -> ModuleType | None:
    """A part's module, or None while it is not written yet."""
    try:
        return importlib.import_module(f"benchmarks.reliability.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"benchmarks.reliability.{name}":
            raise
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated parts to run")
    modules = {name: _load(name) for name in PARTS}
    for name, module in modules.items():
        if module is not None:
            module.add_arguments(parser.add_argument_group(name))
    args = parser.parse_args()
    summary: dict[str, Any] = {}
    for name in args.parts.split(","):
        module = modules.get(name.strip())
        if module is None:
            print(f"== {name}: not available", flush=True)
            summary[name] = None
            continue
        print(f"== {name}", flush=True)
        summary[name] = module.run(args)
    met = all(part is not None and part.get("target_met", False) for part in summary.values())
    print(json.dumps({"targets_met": met, **summary}))
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
