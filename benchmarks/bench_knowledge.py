"""Knowledge benchmarks: ingest throughput on the Nezha logs (Medic's mask + template + dedup-embed
against Drain3 with default settings and a naive per-line embedding, same run), and hybrid search
latency over many stored documents (embedded Chroma).

Absolute timings are noisy on a shared machine; read the ratios. Usage:
  python benchmarks/bench_knowledge.py [--data DIR] [--files N] [--docs N] [--queries N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from knowledge.embeddings import MiniLMEmbedding
from knowledge.evaluation.loghub import drain3_default_groups
from knowledge.memory import COLLECTION as INCIDENTS
from knowledge.postmortems import COLLECTION as POSTMORTEMS
from knowledge.search import HybridSearch
from knowledge.store import collection, open_chroma
from knowledge.templates import TemplateMiner

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


def nezha_lines(root: Path, files: int) -> list[str]:
    """Raw container log lines (the ``log`` field as the pod printed it) of the first files."""
    lines: list[str] = []
    paths = sorted((root / "rca/nezha/trainticket/fault_suffering").rglob("*_log.csv.gz"))[:files]
    decoder = json.JSONDecoder()
    for path in paths:
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
    embedder.encode_unique(list(dict.fromkeys(templates)))
    medic = time.process_time() - t0
    t0 = time.process_time()
    drain3_default_groups(lines)
    drain = time.process_time() - t0
    sample = lines[:512]
    t0 = time.process_time()
    embedder.encode(sample)
    naive_per_line = (time.process_time() - t0) / len(sample)
    return {
        "lines": len(lines),
        "distinct_templates": len(set(templates)),
        "medic_lines_per_cpu_s": round(len(lines) / medic),
        "drain3_default_lines_per_cpu_s": round(len(lines) / drain),
        "naive_per_line_embedding_lines_per_cpu_s": round(1 / naive_per_line),
        "speedup_vs_drain3_default": round(drain / medic, 2),
    }


def search_latency(docs: int, queries: int, embedder: MiniLMEmbedding) -> dict[str, float]:
    """``docs`` synthetic documents (postmortem-like sentences, random unit vectors: Chroma's
    cost does not depend on what the vectors mean); p50/p95 of real queries."""
    rng = np.random.default_rng(7)
    words = [
        "database",
        "cache",
        "timeout",
        "deploy",
        "rollback",
        "dns",
        "certificate",
        "disk",
        "memory",
        "cpu",
    ]
    words += [
        "latency",
        "network",
        "partition",
        "queue",
        "overload",
        "config",
        "replica",
        "failover",
        "leader",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        client = open_chroma(Path(tmp) / "chroma")
        store = collection(client, POSTMORTEMS, embedder)
        t0 = time.perf_counter()
        for start in range(0, docs, 5000):
            n = min(5000, docs - start)
            vectors = rng.standard_normal((n, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            texts = [" ".join(rng.choice(words, 12)) + f" incident {start + i}" for i in range(n)]
            store.add(
                ids=[f"d{start + i}" for i in range(n)],
                documents=texts,
                embeddings=list(vectors),
                metadatas=[{"kind": "postmortem", "title": t[:40]} for t in texts],
            )
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = HybridSearch([store, collection(client, INCIDENTS, embedder)], embedder)
        build = time.perf_counter() - t0
        times = []
        for q in range(queries):
            query = " ".join(rng.choice(words, 3)) + f" outage {q}"
            t0 = time.perf_counter()
            index.search(query, 5)
            times.append(time.perf_counter() - t0)
    return {
        "docs": docs,
        "load_s": round(load, 1),
        "index_build_s": round(build, 2),
        "search_p50_ms": round(1000 * statistics.median(times), 1),
        "search_p95_ms": round(1000 * statistics.quantiles(times, n=20)[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    embedder = MiniLMEmbedding()
    lines = nezha_lines(args.data, args.files)
    if not lines:
        raise SystemExit(f"no Nezha logs under {args.data}; pass --data DIR")
    result = {"ingest": ingest(lines, embedder)}
    print(json.dumps(result["ingest"]))
    result["search"] = search_latency(args.docs, args.queries, embedder)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
