"""Knowledge benchmarks, each against a baseline measured in the same run:

- ingest: Medic's mask + template + dedup-embed over the Nezha logs (every fault-window file by
  default) in lines per CPU-second, against Drain3 with default settings and a naive per-line
  embedding;
- search: hybrid search latency over many stored documents in embedded Chroma (keyword postings
  + nearest neighbours + fusion), against scoring every document for the keyword part.

The search corpus is synthetic: each document strings together 2-4 sentences of the real public
postmortems in ``postmortems/`` with an id. Document vectors are precomputed: every distinct
sentence is embedded once with the real model and a document's vector is the normalised mean of
its sentences' (embedding 100,000 documents one by one would take this CPU far longer than the
measurement). Every query is embedded with the real model at query time, inside the timing.

Absolute timings are noisy on a shared machine; read the ratios. Usage:
  python benchmarks/bench_knowledge.py [--data DIR] [--files N] [--docs N] [--queries N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from knowledge.bm25 import K1, B
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from knowledge.embeddings import MiniLMEmbedding, model_version
from knowledge.evaluation.grouping import drain3_default_groups
from knowledge.memory import COLLECTION as INCIDENTS
from knowledge.postmortems import COLLECTION as POSTMORTEMS
from knowledge.search import HybridSearch, open_keyword_index
from knowledge.store import collection, open_chroma
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


def _sentences(root: Path) -> list[str]:
    found: set[str] = set()
    for path in sorted((root / "postmortems").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            text = " ".join(str(item.get(k) or "") for k in ("title", "summary", "description"))
            found.update(s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 30)
    return sorted(found)


def _corpus(
    root: Path, docs: int, embedder: MiniLMEmbedding, rng: np.random.Generator
) -> tuple[list[str], np.ndarray, list[str]]:
    """``docs`` documents of 2-4 real postmortem sentences, their vectors, and the sentences."""
    sentences = _sentences(root)
    vectors = embedder.encode(sentences)
    texts: list[str] = []
    doc_vectors = np.zeros((docs, vectors.shape[1]), dtype=np.float32)
    for i in range(docs):
        picked = rng.choice(len(sentences), size=int(rng.integers(2, 5)), replace=False)
        texts.append(" ".join(sentences[j] for j in picked) + f" (incident {i})")
        mean = vectors[picked].mean(axis=0)
        doc_vectors[i] = mean / np.linalg.norm(mean)
    return texts, doc_vectors, sentences


def _queries(sentences: list[str], count: int, rng: np.random.Generator) -> list[str]:
    """Short queries: 3-6 consecutive words of a random sentence."""
    out = []
    for _ in range(count):
        words = sentences[int(rng.integers(len(sentences)))].split()
        size = int(rng.integers(3, 7))
        start = int(rng.integers(0, max(1, len(words) - size)))
        out.append(" ".join(words[start : start + size]))
    return out


def _scan_all_keyword_baseline(texts: list[str], queries: list[str]) -> float:
    """Median ms per query of BM25 that scores every document (sparse column sums over the
    whole corpus, then a sort of all scores), the first version's method."""
    vectorizer = CountVectorizer(token_pattern=r"(?u)\b\w[\w-]*\w\b", stop_words="english")
    counts = sparse.csr_matrix(vectorizer.fit_transform(texts), dtype=np.float64)
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log(1.0 + (len(texts) - frequency + 0.5) / (frequency + 0.5))
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    tf = counts.data
    norm = K1 * (1 - B + B * lengths[rows] / lengths.mean())
    counts.data = idf[counts.indices] * tf * (K1 + 1) / (tf + norm)
    weights = counts.tocsc()
    analyzer = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    times = []
    for query in queries:
        t0 = time.perf_counter()
        columns = sorted({vocabulary[t] for t in analyzer(query) if t in vocabulary})
        scores = np.asarray(weights[:, columns].sum(axis=1)).ravel()
        np.argsort(-scores)[:50]
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def search_latency(
    root: Path, docs: int, queries: int, embedder: MiniLMEmbedding
) -> dict[str, float]:
    rng = np.random.default_rng(7)
    texts, vectors, sentences = _corpus(root, docs, embedder, rng)
    asked = _queries(sentences, queries, rng)
    with tempfile.TemporaryDirectory() as tmp:
        client = open_chroma(Path(tmp) / "chroma")
        store = collection(client, POSTMORTEMS, embedder)
        t0 = time.perf_counter()
        for start in range(0, docs, BATCH):
            end = min(docs, start + BATCH)
            store.add(
                ids=[f"d{i}" for i in range(start, end)],
                documents=texts[start:end],
                embeddings=list(vectors[start:end]),
                metadatas=[{"kind": "postmortem", "title": t[:40]} for t in texts[start:end]],
            )
        load = time.perf_counter() - t0
        stores = [store, collection(client, INCIDENTS, embedder)]
        t0 = time.perf_counter()
        HybridSearch(stores, embedder, Path(tmp) / "search")
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = HybridSearch(stores, embedder, Path(tmp) / "search")
        reopen = time.perf_counter() - t0
        index.search(asked[0], 5)  # first query loads Chroma's vector index into memory
        keywords = open_keyword_index(store, Path(tmp) / "search")
        times, keyword = [], []
        for query in asked:
            t0 = time.perf_counter()
            index.search(query, 5)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            keywords.top(query, 50)
            keyword.append(time.perf_counter() - t0)
    baseline = _scan_all_keyword_baseline(texts, asked)
    keyword_ms = 1000 * statistics.median(keyword)
    return {
        "docs": docs,
        "queries": queries,
        "load_s": round(load, 1),
        "keyword_index_build_s": round(build, 2),
        "reopen_s": round(reopen, 2),
        "search_p50_ms": round(1000 * statistics.median(times), 1),
        "search_p95_ms": round(1000 * statistics.quantiles(times, n=20)[-1], 1),
        "keyword_postings_p50_ms": round(keyword_ms, 2),
        "keyword_scan_all_p50_ms": round(baseline, 2),
        "keyword_speedup_vs_scan_all": round(baseline / keyword_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--files", type=int, default=0, help="Nezha log files (0: all)")
    parser.add_argument("--docs", type=int, default=100_000, help="search corpus (0: skip)")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    embedder = MiniLMEmbedding()
    lines = nezha_lines(args.data, args.files)
    if not lines:
        raise SystemExit(f"no Nezha logs under {args.data}; pass --data DIR")
    result: dict[str, dict[str, float]] = {"ingest": ingest(lines, embedder)}
    print(json.dumps(result["ingest"]), flush=True)
    if args.docs:
        result["search"] = search_latency(args.data, args.docs, args.queries, embedder)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
