"""What the dropped trace candidates cost a live investigation, and proof they do not rank it.

Issue 13's protocol dropped ``stretch``, ``late_raw``, ``flow_share``, ``delay_exact``,
``flow_untimed`` (and the third pass's ``self_time``, ``self_slow``, ``delay_tail``); they used to
be computed on every live investigation all the same. ``knowledge.traces.trace_evidence`` now
computes them only when asked (``candidates``, the generalisation benchmark). This script times
one incident's evidence (``knowledge.evaluation.rca.evidence``: traces and features of every
service, the logs already mined) both ways on the first ``--incidents`` Nezha incidents, CPU
seconds, best of ``--repeat``, the two alternating so that load hits both alike; and ranks every
incident both ways against the others as history (``knowledge.origins.rank_origins``,
leave-one-out, as ``medic eval rca``) and counts the incidents whose ranking (order, scores and
channel parts) is identical.

Usage: PYTHONPATH=. python benchmarks/bench_trace_candidates.py [--data DIR] [--incidents N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks.bench_generalization import default_data
from benchmarks.generalization.rca import NEZHA
from knowledge.evaluation.fault_data import load_index, read_logs, read_metrics
from knowledge.evaluation.rca import evidence, mine_incident
from knowledge.origins import rank_origins
from knowledge.ranking import CANDIDATE_CHANNELS
from knowledge.templates import TemplateMiner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="bench-data root")
    parser.add_argument("--incidents", type=int, default=6, help="incidents timed")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many")
    args = parser.parse_args()
    incidents = load_index(args.data / NEZHA)
    miner = TemplateMiner()
    metrics = {d: read_metrics(d) for d in {i.metric_dir for i in incidents}}
    mined = []
    for incident in incidents:  # mined in order, as medic eval rca does
        base, cur = read_logs(incident.baseline_log_files), read_logs(incident.log_files)
        mined.append(mine_incident(incident, base, cur, metrics[incident.metric_dir], miner))
    timed = mined[: args.incidents]
    best = {False: float("inf"), True: float("inf")}
    for _ in range(args.repeat):
        for candidates in (False, True):
            started = time.process_time()
            for one in timed:
                evidence(one, candidates=candidates)
            best[candidates] = min(best[candidates], time.process_time() - started)
    live = [evidence(one) for one in mined]
    full = [evidence(one, candidates=True) for one in mined]
    same = 0
    for i in range(len(mined)):
        ranked = [
            [
                (o.cause.component, o.cause.score, o.cause.channels)
                for o in rank_origins(kind[i], [f for j, f in enumerate(kind) if j != i])
            ]
            for kind in (live, full)
        ]
        same += ranked[0] == ranked[1]
    carried = sum(bool(CANDIDATE_CHANNELS & set(f.channels)) for one in live for f in one.values())
    print(
        json.dumps(
            {
                "load_average": round(os.getloadavg()[0], 2),
                "incidents_timed": len(timed),
                "cpu_seconds_live": round(best[False], 3),
                "cpu_seconds_with_candidates": round(best[True], 3),
                "incidents_ranked": len(mined),
                "identical_rankings": same,
                "live_services_carrying_candidates": carried,
            }
        )
    )


if __name__ == "__main__":
    main()
