"""Nezha through the live path (issue 14): what the live origin finder reads, chosen with the
nested protocol of issue 13 (``benchmarks.generalization.protocol``).

The 28 real incidents are ranked as the live fan-out reads them (``knowledge.evaluation.rca``:
``screen``, ``within_budget``) under each candidate reading - the logs of the ``K`` services the
metrics put highest or of every one, a total line budget, each service against the other
incidents (the live ``OriginHistory``) or against its peers in the window - and each component is
kept only if the outer estimate (leave one fault type out, and one hour out) rises. Prints dev
beside outer per step and grouping, as JSON. About 5 minutes on 2 quiet cores (the mining).
Usage: PYTHONPATH=. python benchmarks/bench_nezha_live.py [--data ../shared/bench-data/rca/nezha]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.generalization.protocol import Fixed, compare
from benchmarks.generalization.rca import as_at
from knowledge.evaluation.fault_data import NezhaIncident, load_index, read_logs, read_metrics
from knowledge.evaluation.rca import evidence, mine_incident, screened_evidence
from knowledge.origins import rank_origins
from knowledge.ranking import Features
from knowledge.templates import TemplateMiner

BUDGETS = (10_000, 7_500, 5_000)  # total lines; the live 50,000 never binds on Nezha
UNBOUNDED = 10**9
Ranks = dict[str, int | None]


def readings(incidents: Sequence[NezhaIncident]) -> dict[str, list[dict[str, Features]]]:
    """Each candidate reading's evidence, per incident (mined in order, one miner, as the eval)."""
    metrics = {d: read_metrics(d) for d in {i.metric_dir for i in incidents}}
    bases = {tuple(i.baseline_log_files): read_logs(i.baseline_log_files) for i in incidents}
    miner = TemplateMiner()
    mined = [
        mine_incident(
            i,
            bases[tuple(i.baseline_log_files)],
            read_logs(i.log_files),
            metrics[i.metric_dir],
            miner,
        )
        for i in incidents
    ]
    out = {f"K={k}": [screened_evidence(m, k, UNBOUNDED) for m in mined] for k in (3, 8)}
    out["all"] = [evidence(m) for m in mined]
    for budget in BUDGETS:
        out[f"all, {budget} lines"] = [screened_evidence(m, 500, budget, miner) for m in mined]
    return out


def ranks(
    incidents: Sequence[NezhaIncident], found: Sequence[Mapping[str, Features]], history: bool
) -> Ranks:
    out: Ranks = {}
    for i, incident in enumerate(incidents):
        past = [f for j, f in enumerate(found) if j != i] if history else []
        names = [o.service for o in rank_origins(found[i], past)]
        out[incident.id] = (
            names.index(incident.root_cause) + 1 if incident.root_cause in names else None
        )
    return out


def protocol_report(
    incidents: Sequence[NezhaIncident],
    table: Mapping[str, Ranks],
    steps: Mapping[str, tuple[list[str], list[str]]],
) -> dict[str, object]:
    """AS@1/AS@3 of every way of ranking in ``table`` on the whole dev split, then each step
    (``without`` -> ``with``) under the generalisation protocol, outer by fault type and by hour:
    dev and outer side by side, and whether the step is kept."""

    def method(name: str) -> Fixed[NezhaIncident, int | None]:
        return Fixed(name, lambda incident: table[name][incident.id])

    by: dict[str, Callable[[NezhaIncident], str]] = {
        "fault type": lambda i: i.fault_type,
        "hour": lambda i: datetime.fromtimestamp(i.inject_time, UTC).strftime("%H"),
    }
    report: dict[str, object] = {
        "dev": {
            n: {f"as@{k}": round(as_at(k)(list(r.values())), 4) for k in (1, 3)}
            for n, r in table.items()
        },
    }
    for step, (without, with_) in steps.items():
        for grouping, key in by.items():
            groups: dict[str, list[NezhaIncident]] = {}
            for incident in incidents:
                groups.setdefault(key(incident), []).append(incident)
            for k in (1, 3):
                c = compare(
                    [method(n) for n in without], [method(n) for n in with_], groups, as_at(k)
                )
                report[f"{step} | {grouping} | AS@{k}"] = {
                    "without": [round(c.without.dev_score, 4), round(c.without.outer_score, 4)],
                    "with": [round(c.with_.dev_score, 4), round(c.with_.outer_score, 4)],
                    "chosen": c.with_.choices(),
                    "keeps": c.keeps,
                }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/bench-data/rca/nezha"))
    args = parser.parse_args()
    incidents = load_index(args.data)
    table: dict[str, Ranks] = {}
    for name, found in readings(incidents).items():
        table[name] = ranks(incidents, found, history=True)
        table[f"{name}, no history"] = ranks(incidents, found, history=False)

    steps = {
        "logs of every candidate": (["K=3"], ["K=3", "K=8", "all"]),
        "each service against its own history": (["all, no history"], ["all, no history", "all"]),
        "a tighter line budget": (["all"], ["all", *(f"all, {b} lines" for b in BUDGETS)]),
    }
    print(json.dumps(protocol_report(incidents, table, steps), indent=1))


if __name__ == "__main__":
    main()
