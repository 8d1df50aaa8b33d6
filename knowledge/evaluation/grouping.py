"""`medic eval templates`: grouping accuracy of template mining on loghub's 2k-line samples
(``<S>/<S>_2k.log_structured.csv``, the ``Content`` column), Medic's miner against Drain3 with its
default settings in the same run. The samples are read from the directory given with ``--data``
(e.g. ``../shared/bench-data/loghub``); none of them is in the repository."""

from __future__ import annotations

import csv
import statistics
import time
from collections import defaultdict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from drain3 import TemplateMiner as Drain3Miner
from drain3.template_miner_config import TemplateMinerConfig

from knowledge.errors import CorpusError
from knowledge.evaluation.corpus import corpus_lines
from knowledge.templates import TemplateMiner


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Share of lines whose predicted group is exactly their ground-truth group (loghub's GA)."""
    true_groups: dict[Hashable, set[int]] = defaultdict(set)
    predicted_groups: dict[Hashable, set[int]] = defaultdict(set)
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        true_groups[t].add(i)
        predicted_groups[p].add(i)
    correct = sum(
        len(members)
        for members in predicted_groups.values()
        if true_groups[truth[next(iter(members))]] == members
    )
    return correct / len(truth) if truth else 0.0


def read_system(path: Path) -> tuple[list[str], list[str]]:
    """(contents, ground-truth event ids) of one structured CSV; lines without an id dropped."""
    contents, events = [], []
    with path.open("rb") as fh:
        for row in csv.DictReader(corpus_lines(fh, path)):
            if row.get("EventId") and row.get("Content") is not None:
                contents.append(row["Content"])
                events.append(row["EventId"])
    return contents, events


def drain3_default_groups(contents: Sequence[str]) -> list[int]:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = Drain3Miner(config=config)
    return [miner.add_log_message(c)["cluster_id"] for c in contents]


def evaluate_templates(data: Path) -> dict[str, Any]:
    started = time.perf_counter()
    systems = sorted(p.parent.name for p in data.glob("*/*_2k.log_structured.csv"))
    systems = [s for s in systems if (data / s / f"{s}_2k.log_structured.csv").is_file()]
    if not systems:
        raise CorpusError(f"no <S>/<S>_2k.log_structured.csv under {data}: is it loghub?")
    medic: dict[str, float] = {}
    baseline: dict[str, float] = {}
    for system in systems:
        contents, events = read_system(data / system / f"{system}_2k.log_structured.csv")
        medic[system] = round(grouping_accuracy(events, TemplateMiner().templates_of(contents)), 4)
        baseline[system] = round(grouping_accuracy(events, drain3_default_groups(contents)), 4)
    return {
        "systems": medic,
        "mean": round(statistics.mean(medic.values()), 4),
        "baseline_drain3_default": {
            "systems": baseline,
            "mean": round(statistics.mean(baseline.values()), 4),
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
