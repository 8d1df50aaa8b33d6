"""Postmortem search benchmarks, each against a baseline measured in the same run:

- latency: hybrid search (question embedded, exact cosine over every chunk, BM25, fusion,
  calibration) over ``--docs`` documents, p50/p95 per question. The corpus is synthetic: each
  document strings together 2-4 sentences of the real public postmortems under ``--data`` with
  an id, and its vector is the normalised mean of its sentences' (embedding 100,000 documents one
  by one would take this CPU far longer than the measurement). Every question is embedded with
  the real model inside the timing.
- cold: `medic search` in a fresh process over a data directory that holds ingested postmortems
  (``--data-dir``), against the previous version of Medic (``--old``, a checkout) over a copy of
  the same directory, alternating runs so both see the same load.

Absolute timings are noisy on a shared machine; read them beside the load average printed.
Usage:
  python benchmarks/bench_search.py latency [--data DIR] [--docs N] [--queries N]
  python benchmarks/bench_search.py cold --data-dir DIR --old CHECKOUT [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = next(
    (
        p / "shared" / "bench-data"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared").is_dir()
    ),
    REPO.parent / "shared" / "bench-data",
)
QUESTION = "higher-priority pods evict other pods"


def _sentences(root: Path) -> list[str]:
    found: set[str] = set()
    for path in sorted((root / "postmortems").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            text = " ".join(str(item.get(k) or "") for k in ("title", "summary", "description"))
            found.update(s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 30)
    return sorted(found)


def latency(root: Path, docs: int, queries: int) -> dict[str, float]:
    from knowledge.embeddings import MiniLMEmbedding
    from knowledge.query_encoder import query_encoder
    from knowledge.search import HybridSearch
    from knowledge.search_index import SearchIndex

    rng = np.random.default_rng(7)
    sentences = _sentences(root)
    vectors = MiniLMEmbedding().encode(sentences)
    rows = []
    for i in range(docs):
        picked = rng.choice(len(sentences), size=int(rng.integers(2, 5)), replace=False)
        mean = vectors[picked].mean(axis=0)
        text = " ".join(sentences[j] for j in picked) + f" (incident {i})"
        meta = {"kind": "postmortem", "title": text[:40], "doc": f"d{i}", "chunk": 0}
        rows.append((f"d{i}", text, meta, mean / np.linalg.norm(mean)))
    started = time.perf_counter()
    index = SearchIndex.build("bench", rows)
    build = time.perf_counter() - started
    asked = []
    for _ in range(queries):
        words = sentences[int(rng.integers(len(sentences)))].split()
        size = int(rng.integers(3, 7))
        start = int(rng.integers(0, max(1, len(words) - size)))
        asked.append(" ".join(words[start : start + size]))
    search = HybridSearch([index], query_encoder())
    search.search(asked[0], 5)  # the null questions and the encoder's weights, once
    times = []
    for question in asked:
        t0 = time.perf_counter()
        search.search(question, 5)
        times.append(time.perf_counter() - t0)
    return {
        "docs": docs,
        "queries": queries,
        "index_build_s": round(build, 1),
        "search_p50_ms": round(1000 * statistics.median(times), 1),
        "search_p95_ms": round(1000 * statistics.quantiles(times, n=20)[-1], 1),
        "load_average": round(os.getloadavg()[0], 1),
    }


def _medic(checkout: Path, data_dir: Path) -> float:
    env = os.environ | {"PYTHONPATH": str(checkout), "MEDIC_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from bot.cli.app import app; app()", "search", QUESTION],
        env=env,
        check=True,
        capture_output=True,
        cwd=checkout,
    )
    return time.perf_counter() - started


def cold(data_dir: Path, old: Path, runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = Path(tmp) / "data"
        shutil.copytree(data_dir, old_dir, ignore=shutil.ignore_patterns("search"))
        _medic(REPO, data_dir), _medic(old, old_dir)  # indexes built, files in the page cache
        new_times, old_times = [], []
        for _ in range(runs):
            new_times.append(_medic(REPO, data_dir))
            old_times.append(_medic(old, old_dir))
    return {
        "runs": runs,
        "new_median_s": round(statistics.median(new_times), 2),
        "new_max_s": round(max(new_times), 2),
        "old_median_s": round(statistics.median(old_times), 2),
        "old_max_s": round(max(old_times), 2),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=("latency", "cold"))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, help="a Medic data directory with postmortems")
    parser.add_argument("--old", type=Path, help="a checkout of the previous version")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.what == "latency":
        print(json.dumps(latency(args.data, args.docs, args.queries)))
        return
    if args.data_dir is None or args.old is None:
        raise SystemExit("cold needs --data-dir and --old")
    print(json.dumps(cold(args.data_dir, args.old, args.runs)))


if __name__ == "__main__":
    main()
