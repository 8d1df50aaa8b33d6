"""Knowledge benchmarks, each against a baseline measured in the same run:

- ingest: Medic's mask + template + dedup-embed over the Nezha logs (every fault-window file by
  default) in lines per CPU-second, against Drain3 with default settings and a naive per-line
  embedding;

Search latency over 100,000 documents and `medic search` from a cold process are measured by
``benchmarks/bench_search.py``.

Absolute timings are noisy on a shared machine; read the ratios. Usage:
  python benchmarks/bench_knowledge.py [--data DIR] [--files N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import tempfile
import time
from pathlib import Path

from knowledge.embeddings import MiniLMEmbedding, model_version
from knowledge.evaluation.grouping import drain3_default_groups
from knowledge.templates import TemplateMiner
from knowledge.vector_cache import VectorCache

REPO = Path(__file__).resolve().parents[1]
# ../shared/bench-data beside the checkout (or beside the worktrees' folder)
DATA = next(
    (
        p / "shared" / "bench-data"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared").is_dir()
    ),
    REPO.parent / "shared" / "bench-data",
)
NAIVE_SAMPLE = 256
BATCH = 5000


def nezha_lines(root: Path, files: int) -> list[str]:
    """Raw container log lines (the ``log`` field as the pod printed it) of the first ``files``
    fault-window files (all when 0)."""
    lines: list[str] = []
    paths = sorted((root / "rca/nezha/trainticket/fault_suffering").rglob("*_log.csv.gz"))
    decoder = json.JSONDecoder()
    for path in paths[: files or None]:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    lines.append(decoder.raw_decode(row["Log"])[0]["log"].strip())
                except (ValueError, KeyError):
                    continue
    return lines


def ingest(lines: list[str], embedder: MiniLMEmbedding) -> dict[str, float]:
    embedder.warm_up()
    t0 = time.process_time()
    miner = TemplateMiner()
    templates = miner.templates_of(lines)
    mined = time.process_time() - t0
    distinct = list(dict.fromkeys(templates))
    t0 = time.process_time()
    embedder.embed_templates(distinct)
    embedded = time.process_time() - t0
    t0 = time.process_time()
    drain3_default_groups(lines)
    drain = time.process_time() - t0
    t0 = time.process_time()
    embedder.encode(lines[:NAIVE_SAMPLE])
    naive = (time.process_time() - t0) / NAIVE_SAMPLE
    medic = mined + embedded
    steady = steady_state(lines)
    return {
        "lines": len(lines),
        "distinct_templates": len(distinct),
        "medic_lines_per_cpu_s": round(len(lines) / medic),
        "medic_mining_only_lines_per_cpu_s": round(len(lines) / mined),
        "medic_embedding_cpu_s": round(embedded, 2),
        "drain3_default_lines_per_cpu_s": round(len(lines) / drain),
        "naive_per_line_embedding_lines_per_cpu_s": round(1 / naive),
        "speedup_vs_drain3_default": round(drain / medic, 2),
        **steady,
        "steady_speedup_vs_drain3_default": round(
            steady["steady_lines_per_cpu_s"] * drain / len(lines), 2
        ),
    }


def steady_state(lines: list[str]) -> dict[str, float]:
    """Ingest as a running Medic does: the first two thirds of the lines (earlier incidents) have
    filled the template state and the on-disk embedding cache; the last third is measured - mining
    plus embedding only the templates never seen before (their vectors are then stored)."""
    cut = 2 * len(lines) // 3
    with tempfile.TemporaryDirectory() as tmp:
        model = model_version()
        embedder = MiniLMEmbedding(vectors=VectorCache(Path(tmp) / "vectors.db", model))
        miner = TemplateMiner()
        embedder.embed_templates(list(dict.fromkeys(miner.templates_of(lines[:cut]))))
        fresh = MiniLMEmbedding(vectors=VectorCache(Path(tmp) / "vectors.db", model))
        t0 = time.process_time()
        templates = miner.templates_of(lines[cut:])
        fresh.embed_templates(list(dict.fromkeys(templates)))
        spent = time.process_time() - t0
    return {
        "steady_lines": len(lines) - cut,
        "steady_lines_per_cpu_s": round((len(lines) - cut) / spent),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--files", type=int, default=0, help="Nezha log files (0: all)")
    args = parser.parse_args()
    embedder = MiniLMEmbedding()
    lines = nezha_lines(args.data, args.files)
    if not lines:
        raise SystemExit(f"no Nezha logs under {args.data}; pass --data DIR")
    result: dict[str, dict[str, float]] = {"ingest": ingest(lines, embedder)}
    print(json.dumps(result["ingest"]), flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
