"""Postmortem search benchmarks, each against a baseline measured in the same run:

- latency: hybrid search (question embedded, exact cosine over every chunk, BM25, fusion,
  calibration) over ``--docs`` documents, p50/p95 per question. The corpus is synthetic: each
  document strings together 2-4 sentences of the real public postmortems under ``--data`` with
  an id, and its vector is the normalised mean of its sentences' (embedding 100,000 documents one
  by one would take this CPU far longer than the measurement). Every question is embedded with
  the real model inside the timing. The same search without keyword feedback is timed beside it,
  question by question in turn, as the baseline of the same run.
- cv: the generalisation protocol for every retrieval choice (fusion method and weight, per-field
  keyword weights, chunk aggregation, stemming and stop words, keyword feedback): nested 5-fold
  choice inside the dev questions, the outer estimate beside the dev figure and both baselines;
  ``--test`` asks the held-back questions once with what the protocol kept.
- cold: `medic search` in a fresh process over a data directory that holds ingested postmortems
  (``--data-dir``), against the previous version of Medic (``--old``, a checkout) over a copy of
  the same directory, alternating runs so both see the same load.

Absolute timings are noisy on a shared machine; read them beside the load average printed.
Usage:
  python benchmarks/bench_search.py latency [--data DIR] [--docs N] [--queries N]
  python benchmarks/bench_search.py cold --data-dir DIR --old CHECKOUT [--runs N]
  python benchmarks/bench_search.py cv [--workdir DIR] [--test]
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
from typing import Any

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
    # the baseline in the same run: the same search without keyword feedback, question by
    # question in turn with the full one, so both see the same load
    plain = HybridSearch([index], query_encoder(), feedback_weight=0.0)
    search.search(asked[0], 5)  # the null questions and the encoder's weights, once
    plain.search(asked[0], 5)
    times: list[float] = []
    without: list[float] = []
    for question in asked:
        for timed, runner in ((times, search), (without, plain)):
            t0 = time.perf_counter()
            runner.search(question, 5)
            timed.append(time.perf_counter() - t0)
    return {
        "docs": docs,
        "queries": queries,
        "index_build_s": round(build, 1),
        "search_p50_ms": round(1000 * statistics.median(times), 1),
        "search_p95_ms": round(1000 * statistics.quantiles(times, n=20)[-1], 1),
        "without_feedback_p50_ms": round(1000 * statistics.median(without), 1),
        "without_feedback_p95_ms": round(1000 * statistics.quantiles(without, n=20)[-1], 1),
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


# --- cv: the generalisation protocol for the retrieval choices --------------------------------

FOLDS = 5
FUSIONS = (
    [("minmax", w) for w in (0.3, 0.1, 0.2, 0.4, 0.5, 0.6, 0.7)]
    + [("null-z", w) for w in (0.3, 0.1, 0.2, 0.4, 0.5, 0.6, 0.7)]
    + [("null-z max", w) for w in (0.4, 0.5, 0.6)]
    + [("rrf", w) for w in (0.3, 0.5, 0.7)]
    + [("bm25-led", band) for band in (0.05, 0.1, 0.2, 0.3)]
)
AGGREGATIONS = ("max", "mean", "top2", "top3")
FIELD_WEIGHTS = [  # (title, tags, impact) against the body's 1
    (t, g, i) for t in (0, 0.5, 1, 2) for g in (0, 0.5, 1, 2) for i in (0, 1)
]
TOKENS = {"stems, no stop words": (True, True), "stems": (True, False), "words": (False, True)}
FEEDBACK = [(docs, weight) for docs in (3, 5) for weight in (0.2, 0.4)]  # RM3: documents, weight
# Tried against the test split's class of misses (short postmortems losing to long ones, a
# keyword-only hit buried by meaning): keyword variants (BM25+, BM25L, stronger length
# normalisation b) and dense variants (the document's null similarity subtracted - hub
# documents close to every question - or its z against the null; a prior against many chunks;
# the header chunk weighed against the body; Rocchio feedback on the question's vector).
BM25_VARIANTS = [(m, b) for m in ("lucene", "bm25+", "bm25l") for b in (0.75, 0.9, 1.0, 0.5)]
DENSE_VARIANTS: list[tuple[object, ...]] = [
    *[("null-centred", a) for a in (0.25, 0.5, 0.75, 1.0)],
    ("null z",),
    *[("chunk prior", g) for g in (0.005, 0.01, 0.02, 0.04)],
    *[("header", a) for a in (0.25, 0.5, 0.75, 1.0, 0.0)],
    *[("rocchio", k, beta) for k in (3, 5) for beta in (0.3, 0.6)],
]
# Round 3 (the grown question set): a weight per question from each method's own confidence, so
# a strong single-method hit keeps its place - the gap between its first and second scaled score
# ("gap": weight w0 + a x (keyword gap - meaning gap)), or the share of its top score's z against
# the null questions ("null share": (1 - b) x w0 + b x keyword z / (keyword z + meaning z)).
CONFIDENCE = [("gap", (w, a)) for w in (0.3, 0.2, 0.4) for a in (0.5, 1.0, 2.0)] + [
    ("null share", (w, b)) for w in (0.3, 0.2, 0.4) for b in (0.25, 0.5, 0.75)
]
KEPT_FEEDBACK = (3, 0.2)  # the current pipeline's keyword feedback (3 documents, weight 0.2)
# A vector of the whole document (title and text, as far as the model reads) beside its best
# chunk: (1 - a) x best chunk + a x whole document, for every document or for the short ones
# (one or two chunks, the class the embeddings ranked low) only.
DOCUMENT_VECTORS = [
    ("document vector", a, short) for short in (True, False) for a in (0.25, 0.5, 1.0)
]
CURRENT = "current pipeline: minmax 0.1-0.3 + feedback 3 / 0.2"  # Medic's, weight open
BREAKS_SINGLE_HIT = "minmax 0.1-0.7 + feedback 3 / 0.2 (0.4 loses a meaning-only first hit)"
# The highest keyword weight at which a meaning-only first hit stays above weak keyword matches
# (tests/knowledge/test_search.py::test_a_strong_hit_of_one_ranking_alone_stays_first fails at 0.4).
KEEPS_SINGLE_HIT = 0.3
LEARNED_C = (0.1, 1.0, 10.0)  # learned fusion: inverse regularisation of the logistic regression
LEARNED_POOL = 20  # the documents a learned fusion orders: the union of each ranking's best 20
# Round 4 (declared before it was measured): the keyword side per chunk, so a long write-up is
# not diluted by its own length. A document's BM25 is its best chunk's (or best + a share of the
# second's), over the chunks alone or each body chunk with its document's header (title, impact,
# tags) in front; or the whole document's BM25 mixed with its best chunk's. And BM25F-style
# field weighting as ``bm25s`` can index it: the header's (or the title's) words counted 2 or 3
# times in the whole document (a weighted term frequency under one length normalisation, unlike
# the per-field sums above). Each with and without keyword feedback (3 / 0.2; over chunks, the
# best 3 chunks teach it), the dense side and the min-max fusion unchanged (weight 0.1-0.3).
CHUNK_KEYWORDS: list[tuple[object, ...]] = [
    *[("per chunk", "chunks", share) for share in (0.0, 0.25, 0.5)],
    *[("per chunk", "chunks with header", share) for share in (0.0, 0.25, 0.5)],
    *[("document + chunk", "chunks", mix) for mix in (0.25, 0.5, 0.75)],
]
FIELD_REPEATS: list[tuple[object, ...]] = [
    ("fields repeated", field, times) for field in ("header", "title") for times in (2, 3)
]
MORE_FUSIONS = [(f"rrf k={k}", w) for k in (1, 5, 10, 20, 60) for w in (0.3, 0.5, 0.7)] + [
    ("query z", w) for w in (0.3, 0.1, 0.2, 0.4, 0.5, 0.6, 0.7)
]


def _fields(index: object) -> list[dict[str, str]]:
    """Each document's title, tags, impact and body, from its header chunk and the rest."""
    out = []
    for d in range(index.size):  # type: ignore[attr-defined]
        start = int(index.starts[d])  # type: ignore[attr-defined]
        end = int(index.starts[d + 1]) if d + 1 < index.size else len(index.texts)  # type: ignore[attr-defined]
        found: dict[str, list[str]] = {"title": [], "tags": [], "impact": [], "body": []}
        for c in range(start, end):
            text, meta = index.texts[c], index.metas[c]  # type: ignore[attr-defined]
            if meta.get("chunk", 0):
                found["body"].append(text)
                continue
            title = str(meta.get("title", "")).rstrip(".")
            rest = text[len(title) :] if text.startswith(title) else text
            found["title" if meta.get("titled", 1) else "body"].append(title)
            if m := re.search(r"Impact: (.*?)\.(?: Tags:|$)", rest, re.S):
                found["impact"].append(m.group(1))
            if m := re.search(r"Tags: (.*)\.$", rest, re.S):
                found["tags"].append(m.group(1))
        out.append({k: "\n".join(v) for k, v in found.items()})
    return out


def _tokenizer(stem: bool, stop: bool):  # type: ignore[no-untyped-def]
    from knowledge import keywords

    words = re.compile(r"(?u)\b\w\w+\b")

    def terms(text: str) -> list[str]:
        found = words.findall(text.lower())
        if stop:
            found = [w for w in found if w not in keywords._stop_words()]
        return [str(s) for s in keywords._stemmer().stemWords(found)] if stem else found

    return terms


def _bm25(texts: list[str], terms):  # type: ignore[no-untyped-def]
    import bm25s

    from knowledge.keywords import K1, B

    retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
    retriever.index([terms(t) or ["-"] for t in texts], show_progress=False)

    def scores(query: str) -> np.ndarray:
        wanted = [t for t in dict.fromkeys(terms(query)) if t in retriever.vocab_dict]
        if not wanted:
            return np.zeros(len(texts))
        return np.asarray(retriever.get_scores(wanted), dtype=np.float64)

    return scores


def _scaled(values: np.ndarray) -> np.ndarray:
    """The scaling Medic's fusion uses (``knowledge.search``): from the lower of 0 and the
    lowest score to the highest, so the protocol measures the fusion that ships (a cosine
    scaled from its corpus minimum instead put one held-back question apart)."""
    from knowledge.search import _scaled as scaled

    return scaled(values)


def _fuse(keyword: np.ndarray, dense: np.ndarray, null: object, how: str, p: float) -> np.ndarray:
    kz = (keyword - null.keyword[0]) / null.keyword[1]  # type: ignore[attr-defined]
    dz = (dense - null.dense[0]) / null.dense[1]  # type: ignore[attr-defined]
    if how == "minmax":
        return p * _scaled(keyword) + (1 - p) * _scaled(dense)
    if how == "null-z":
        return p * kz + (1 - p) * dz
    if how == "null-z max":
        return np.maximum(p * kz, (1 - p) * dz)
    if how == "rrf" or how.startswith("rrf k="):
        k = 60 if how == "rrf" else int(how.removeprefix("rrf k="))
        ranks = [np.empty(len(v)) for v in (keyword, dense)]
        for r, v in zip(ranks, (keyword, dense), strict=True):
            r[np.argsort(-v, kind="stable")] = np.arange(1, len(v) + 1)
        return p / (k + ranks[0]) + (1 - p) / (k + ranks[1])
    if how == "gap":  # each method's confidence: its first scaled score's lead over the second
        w0, a = p  # type: ignore[misc]
        ks, ds = _scaled(keyword), _scaled(dense)
        w = min(1.0, max(0.0, w0 + a * (_lead(ks) - _lead(ds))))
        return w * ks + (1 - w) * ds
    if how == "null share":  # each method's confidence: its best score's z against the null
        w0, b = p  # type: ignore[misc]
        zk, zd = max(float(kz.max()), 0.0), max(float(dz.max()), 0.0)
        share = zk / (zk + zd) if zk + zd > 0 else w0
        w = (1 - b) * w0 + b * share
        return w * _scaled(keyword) + (1 - w) * _scaled(dense)
    if how == "query z":  # each score against its own distribution over the corpus
        return p * _z(keyword) + (1 - p) * _z(dense)
    close = keyword >= keyword.max() * (1 - p)  # BM25's order; meaning orders the close ones
    return np.where(close, 10 + _scaled(dense), _scaled(keyword))


def _lead(scaled: np.ndarray) -> float:
    """How far the first of scaled scores (1 at the top) stands above the second."""
    if len(scaled) < 2:
        return 1.0
    top2 = np.partition(scaled, -2)[-2:]
    return float(top2[1] - top2[0])


def _z(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return np.zeros_like(values) if spread < 1e-9 else (values - values.mean()) / spread


def _families() -> dict[str, list[tuple[object, ...]]]:
    """The candidates of each family: the current pipeline with one kind of choice opened."""
    base = ("stems, no stop words", None, "max")
    minmax = [f for f in FUSIONS if f[0] == "minmax"]
    families: dict[str, list[tuple[object, ...]]] = {
        "current: minmax fusion": [(*base, f, None) for f in minmax],
        "+ fusion method": [(*base, f, None) for f in FUSIONS],
        "+ field weights": [
            ("stems, no stop words", w, "max", f, None)
            for w in [None, *FIELD_WEIGHTS]
            for f in minmax
        ],
        "+ chunk aggregation": [
            ("stems, no stop words", None, a, f, None) for a in AGGREGATIONS for f in minmax
        ],
        "+ query processing": [(t, None, "max", f, None) for t in TOKENS for f in minmax],
        "+ keyword feedback (RM3)": [(*base, f, fb) for fb in [None, *FEEDBACK] for f in minmax],
        "+ BM25 variant": [(*base, f, v) for v in [None, *BM25_VARIANTS[1:]] for f in minmax],
        "+ dense variant": [
            ("stems, no stop words", None, how, f, None)
            for how in ["max", *DENSE_VARIANTS]
            for f in minmax
        ],
        "+ rrf k, query z": [(*base, f, None) for f in [*minmax, *MORE_FUSIONS]],
    }
    with_feedback = [(*base, f, KEPT_FEEDBACK) for f in minmax]
    families[BREAKS_SINGLE_HIT] = with_feedback
    families[CURRENT] = [
        c
        for c in with_feedback
        if c[3][1] <= KEEPS_SINGLE_HIT  # type: ignore[index]
    ]
    kept_weights = families[CURRENT]
    families["+ confidence fusion"] = kept_weights + [
        (*base, f, fb) for fb in (KEPT_FEEDBACK, None) for f in CONFIDENCE
    ]
    families["+ document vector"] = kept_weights + [
        ("stems, no stop words", None, how, f, KEPT_FEEDBACK)
        for how in DOCUMENT_VECTORS
        for f in minmax
        if f[1] <= KEEPS_SINGLE_HIT
    ]
    round4: list[tuple[object, ...]] = [
        (*base, f, (*how, fb))
        for how in CHUNK_KEYWORDS + FIELD_REPEATS
        for fb in (True, False)
        for f in minmax
        if f[1] <= KEEPS_SINGLE_HIT
    ]
    families["+ keyword per chunk (a, c)"] = kept_weights + [
        c
        for c in round4
        if c[4][0] != "fields repeated"  # type: ignore[index,unused-ignore]
    ]
    families["+ fields repeated, BM25F-style (b)"] = kept_weights + [
        c
        for c in round4
        if c[4][0] == "fields repeated"  # type: ignore[index,unused-ignore]
    ]
    families["+ per chunk or fields repeated"] = kept_weights + round4
    families["all together"] = list(dict.fromkeys(c for f in families.values() for c in f))
    families["learned fusion alone"] = [("learned", c) for c in LEARNED_C]
    families["+ learned fusion"] = kept_weights + [("learned", c) for c in LEARNED_C]
    return families


def _protocol(
    questions: list[Any],
    families: dict[str, list[tuple[object, ...]]],
    ranks: dict[tuple[object, ...], np.ndarray],
    bm25_alone: np.ndarray,
    dense_alone: np.ndarray,
    test: bool,
    learned: Any = None,
) -> dict[str, object]:
    """Each family's outer estimate over the dev folds, the one kept, and (``test``) the
    held-back questions asked once with its choice. ``learned(c, fit_rows, rows)``: the ranks on
    ``rows`` of a fusion fitted on ``fit_rows`` only (candidates ``("learned", c)``); choosing
    it inside a training set uses an inner 4-fold split of that set, never its own fit."""
    import zlib

    dev = sorted(
        (i for i, q in enumerate(questions) if q.split == "dev"),
        key=lambda i: zlib.crc32(questions[i].id.encode()),
    )
    folds = [dev[k::FOLDS] for k in range(FOLDS)]

    def measured(found: np.ndarray) -> dict[str, float]:
        return {
            "hit@1": round(float(np.mean(found == 1)), 3),
            "mrr": round(float(np.mean(np.where(found <= 10, 1 / found, 0))), 3),
        }

    def by_set(rows: list[int], found: np.ndarray) -> dict[str, dict[str, float]]:
        """The figures over all ``rows`` and over each question set apart (the first ``q..``,
        the grown ones ``n..`` and ``h..``, written later): a gain on one set only shows here."""
        found = np.asarray(found)
        sets = np.asarray([questions[i].id[0] for i in rows])
        split = {"all": found, **{f"{s}..": found[sets == s] for s in ("q", "n", "h")}}
        return {k: {**measured(v), "n": len(v)} for k, v in split.items() if len(v)}

    def rank_of(c: tuple[object, ...], fit_rows: list[int], rows: list[int]) -> np.ndarray:
        if c[0] == "learned":
            return np.asarray(learned(c[1], fit_rows, rows))
        return ranks[c][rows]

    def inside(c: tuple[object, ...], rows: list[int]) -> np.ndarray:
        """``c``'s ranks on ``rows`` as judged inside them: a learned fusion answers each
        inner fold fitted on the other three."""
        if c[0] != "learned":
            return ranks[c][rows]
        found = np.empty(len(rows))
        for k in range(4):
            part = list(range(k, len(rows), 4))
            rest = [rows[i] for i in range(len(rows)) if i % 4 != k]
            found[part] = rank_of(c, rest, [rows[i] for i in part])
        return found

    def choose(candidates: list[tuple[object, ...]], rows: list[int]) -> tuple[object, ...]:
        def fit(c: tuple[object, ...]) -> tuple[float, int]:
            m = measured(inside(c, rows))
            return (m["hit@1"] + m["mrr"], -candidates.index(c))  # ties: the earlier, simpler

        return max(candidates, key=fit)

    report: dict[str, object] = {
        "dev questions": len(dev),
        "baselines dev": {
            "bm25": by_set(dev, bm25_alone[dev]),
            "dense": by_set(dev, dense_alone[dev]),
        },
    }
    for name, candidates in families.items():
        outer, rows, picks = [], [], []
        for fold in folds:
            training = [i for i in dev if i not in fold]
            picks.append(choose(candidates, training))
            outer.extend(rank_of(picks[-1], training, fold))
            rows.extend(fold)
        final = choose(candidates, dev)
        report[name] = {
            "candidates": len(candidates),
            "dev cv outer": measured(np.asarray(outer)),
            "dev cv outer by set": by_set(rows, np.asarray(outer)),
            "dev (chosen on all of dev)": measured(inside(final, dev)),
            "chosen": repr(final),
            "chosen in each fold": [repr(p) for p in picks],
        }

    def total(name: str) -> float:
        outer = report[name]["dev cv outer"]  # type: ignore[index]
        return float(outer["hit@1"] + outer["mrr"])

    def keeps_single_hit(name: str) -> bool:
        """No fold chose a min-max keyword weight above ``KEEPS_SINGLE_HIT``."""
        return not any(
            re.search(r"'minmax', (0\.\d+)", p)
            and float(re.findall(r"'minmax', (0\.\d+)", p)[0]) > KEEPS_SINGLE_HIT
            for p in report[name]["chosen in each fold"]  # type: ignore[index]
        )

    admissible = [name for name in families if keeps_single_hit(name)]
    report["kept only among (no fold chose a keyword weight above 0.3)"] = admissible
    kept = max(admissible, key=lambda name: (total(name), name == CURRENT))
    report["kept"] = kept  # a family replaces the current pipeline only if its estimate is higher
    if test:
        held = [i for i, q in enumerate(questions) if q.split == "test"]
        final = choose(families[kept], dev)
        report["test (held back, once)"] = {
            "chosen": repr(final),
            "medic": by_set(held, rank_of(final, dev, held)),
            "bm25": by_set(held, bm25_alone[held]),
            "dense": by_set(held, dense_alone[held]),
        }
    return report


def cv(root: Path, workdir: Path, test: bool, only: list[str] | None = None) -> dict[str, object]:
    """Nested choice over the dev questions: for each of 5 folds, every candidate of a family is
    scored on the other 4 folds (hit@1 + MRR@10) and the best is asked the held-out fold; the
    outer estimate is over all the dev questions, each answered by a choice that never saw it.
    A family stays only if its outer estimate beats the current pipeline's (its weight chosen the
    same way) and no fold chose a keyword weight that loses a meaning-only first hit.
    ``test``: the held-back split, once, with the final choice. ``only``: these families (and
    the current pipeline) alone, skipping what only the others need."""
    from knowledge.embeddings import MiniLMEmbedding
    from knowledge.evaluation.postmortems import QUESTIONS, ingest_corpora, load_questions
    from knowledge.query_encoder import query_encoder
    from knowledge.search import HybridSearch
    from knowledge.search_index import SearchIndex

    saved = workdir / "search" / "medic_postmortems"
    if saved.exists():
        index = SearchIndex.load(saved)
    else:
        index = ingest_corpora(root / "postmortems", MiniLMEmbedding(), workdir)
    search = HybridSearch([index], query_encoder())
    null = search.null()
    questions = [q for q in load_questions(QUESTIONS) if q.relevant]
    docs = np.asarray(search.keys)
    ends = [*index.starts[1:], len(index.texts)]
    scores = {q.id: search.scores(q.text) for q in questions}
    fields = _fields(index)
    whole = ["\n".join(index.texts[s:e]) for s, e in zip(index.starts, ends, strict=True)]
    keyword: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for name, (stem, stop) in TOKENS.items():
        terms = _tokenizer(stem, stop)
        for field in ("whole", "title", "tags", "impact", "body"):
            texts = whole if field == "whole" else [f[field] for f in fields]
            bm25 = _bm25(texts, terms)
            keyword[(name, field)] = {q.id: bm25(q.text) for q in questions}

    def dense_of(qid: str, how: str) -> np.ndarray:
        if how == "max":
            return scores[qid].dense
        chunks = scores[qid].chunks[0]
        top = int(how[3:]) if how.startswith("top") else None
        return np.asarray(
            [
                np.sort(chunks[s:e])[::-1][:top].mean()
                for s, e in zip(index.starts, ends, strict=True)
            ]
        )

    dense: dict[object, dict[str, np.ndarray]] = {
        how: {q.id: dense_of(q.id, how) for q in questions} for how in AGGREGATIONS
    }
    variants = _variants(index, search, questions, scores)
    dense.update(variants["dense"])
    dense.update(_document_vectors(index, search, questions, dense["max"], whole, only))

    feedback = {
        fb: {
            q.id: index.keywords.feedback(
                q.text, scores[q.id].keyword, index.text_of, docs=fb[0], weight=fb[1]
            )
            for q in questions
        }
        for fb in FEEDBACK
    }

    def keyword_of(
        qid: str,
        tokens: str,
        weights: tuple[float, float, float] | None,
        fb: tuple[int, float] | None = None,
    ) -> np.ndarray:
        if fb is not None and isinstance(fb[0], str):
            return variants["keyword"][fb][qid]
        if fb is not None:
            return feedback[fb][qid]
        if weights is None:
            return keyword[(tokens, "whole")][qid]
        parts = ("title", "tags", "impact")
        total = keyword[(tokens, "body")][qid].copy()
        for w, part in zip(weights, parts, strict=True):
            total += w * keyword[(tokens, part)][qid]
        return total

    def first(values: np.ndarray, relevant: frozenset[str]) -> int:
        order = np.lexsort((docs, -np.round(values, 6)))[:10]
        return next((r for r, i in enumerate(order, 1) if docs[i] in relevant), 99)

    families = {k: v for k, v in _families().items() if only is None or k in (CURRENT, *only)}
    ranks: dict[tuple[object, ...], np.ndarray] = {}
    for candidates in families.values():
        for c in candidates:
            if c not in ranks and c[0] != "learned":  # a learned fusion is fitted per fold
                tokens, weights, how, (fusion, p), fb = c  # type: ignore[misc]
                ranks[c] = np.asarray(
                    [
                        first(
                            _fuse(
                                keyword_of(q.id, tokens, weights, fb),
                                dense[how][q.id],
                                null,
                                fusion,
                                p,
                            ),
                            q.relevant,
                        )
                        for q in questions
                    ]
                )
    bm25_alone = np.asarray([first(scores[q.id].keyword, q.relevant) for q in questions])
    dense_alone = np.asarray([first(scores[q.id].dense, q.relevant) for q in questions])
    learned = (
        _learner(questions, scores, feedback[KEPT_FEEDBACK], null, index, docs)
        if "learned" in str(only or "learned")
        else None
    )
    return _protocol(questions, families, ranks, bm25_alone, dense_alone, test, learned)


def _best_two(values: np.ndarray, starts: np.ndarray, share: float) -> np.ndarray:
    """Per document (chunks ``starts[d]`` on): its best chunk's value plus ``share`` of its
    second best's (a document of one chunk: the best alone)."""
    best = np.maximum.reduceat(values, starts)
    if share == 0:
        return best
    ends = [*starts[1:], len(values)]
    second = np.asarray(
        [np.sort(values[s:e])[-2] if e - s > 1 else 0.0 for s, e in zip(starts, ends, strict=True)]
    )
    return np.asarray(best + share * second)


def _round4(
    index: Any, questions: list[Any], scores: dict[str, Any]
) -> dict[object, dict[str, np.ndarray]]:
    """The keyword scores of ``CHUNK_KEYWORDS`` and ``FIELD_REPEATS`` candidates, with
    (``True``) and without feedback (3 documents or chunks, weight 0.2)."""
    from knowledge.keywords import KeywordIndex

    starts = index.starts
    ends = [*starts[1:], len(index.texts)]
    header = [
        next((index.texts[c] for c in range(s, e) if not index.metas[c].get("chunk", 0)), "")
        for s, e in zip(starts, ends, strict=True)
    ]
    doc_of = np.repeat(np.arange(len(starts)), np.diff([*starts, len(index.texts)]))
    with_header = [
        t if not index.metas[c].get("chunk", 0) else f"{header[doc_of[c]]}\n{t}"
        for c, t in enumerate(index.texts)
    ]
    chunk_texts = {"chunks": list(index.texts), "chunks with header": with_header}
    chunk_index = {k: KeywordIndex.build(v) for k, v in chunk_texts.items()}
    docs, fb = KEPT_FEEDBACK
    out: dict[object, dict[str, np.ndarray]] = {}

    def per_chunk(passage: str, q: Any, feedback: bool) -> np.ndarray:
        kw = chunk_index[passage]
        plain = kw.scores(q.text)
        if not feedback:
            return plain
        return kw.feedback(q.text, plain, chunk_texts[passage].__getitem__, docs, fb)

    for how, passage, p in CHUNK_KEYWORDS:
        for feedback in (True, False):
            key = (how, passage, p, feedback)
            out[key] = {}
            for q in questions:
                chunks = per_chunk(str(passage), q, feedback)
                if how == "per chunk":
                    out[key][q.id] = _best_two(chunks, starts, float(p))  # type: ignore[arg-type]
                else:
                    whole = (
                        index.keywords.feedback(
                            q.text, scores[q.id].keyword, index.text_of, docs, fb
                        )
                        if feedback
                        else scores[q.id].keyword
                    )
                    best = _best_two(chunks, starts, 0.0)
                    out[key][q.id] = (1 - float(p)) * whole + float(p) * best  # type: ignore[arg-type]
    for how, field, times in FIELD_REPEATS:
        texts = []
        for d in range(index.size):
            start = int(starts[d])
            meta = index.metas[start]
            title = str(meta.get("title", "")) if meta.get("titled", 1) else ""
            extra = header[d] if field == "header" else title
            texts.append("\n".join([extra] * (int(times) - 1) + [index.text_of(d)]))  # type: ignore[call-overload]
        kw = KeywordIndex.build(texts)
        for feedback in (True, False):
            key = (how, field, times, feedback)
            out[key] = {}
            for q in questions:
                plain = kw.scores(q.text)
                out[key][q.id] = (
                    kw.feedback(q.text, plain, texts.__getitem__, docs, fb) if feedback else plain
                )
    return out


def _document_vectors(
    index: Any,
    search: Any,
    questions: list[Any],
    best_chunk: dict[str, np.ndarray],
    whole: list[str],
    only: list[str] | None = None,
) -> dict[object, dict[str, np.ndarray]]:
    """The ``DOCUMENT_VECTORS`` similarities: each whole document embedded once (not when
    ``only`` names no family that reads them)."""
    from knowledge.embeddings import MiniLMEmbedding

    if only is not None and not any("document vector" in n or n == "all together" for n in only):
        return {}

    vectors = MiniLMEmbedding().encode(whole)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    asked = search._encode([q.text for q in questions])
    short = np.diff([*index.starts, len(index.texts)]) <= 2
    out: dict[object, dict[str, np.ndarray]] = {}
    for how in DOCUMENT_VECTORS:
        _, a, only_short = how
        out[how] = {}
        for q, v in zip(questions, asked, strict=True):
            mixed = (1 - a) * best_chunk[q.id] + a * (vectors @ v)
            out[how][q.id] = np.where(short, mixed, best_chunk[q.id]) if only_short else mixed
    return out


def _learner(
    questions: list[Any],
    scores: dict[str, Any],
    expanded: dict[str, np.ndarray],
    null: Any,
    index: Any,
    docs: np.ndarray,
) -> Any:
    """``learned(c, fit_rows, rows)`` for the protocol, over each question's pool of documents."""
    ends = [*index.starts[1:], len(index.texts)]
    chunk_counts = np.diff([*index.starts, len(index.texts)])
    lengths = np.asarray(
        [sum(len(t) for t in index.texts[s:e]) for s, e in zip(index.starts, ends, strict=True)]
    )
    pools = [
        _features(scores[q.id], expanded[q.id], null, chunk_counts, lengths) for q in questions
    ]
    labels = [
        np.isin(docs[pool], list(q.relevant)) for q, (pool, _) in zip(questions, pools, strict=True)
    ]

    def learned(c: float, fit_rows: list[int], rows: list[int]) -> np.ndarray:
        return _learned(c, pools, labels, docs, fit_rows, rows)

    return learned


def _features(
    scores: Any, expanded: np.ndarray, null: Any, chunk_counts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The documents a learned fusion orders for one question (the best ``LEARNED_POOL`` of the
    keyword ranking with feedback, of meaning and of the current fusion) and their features:
    each score scaled over the corpus, its z against the null questions, the reciprocal of its
    rank, each method's lead of first over second (alone and times the score), the chunk count
    and the length (both logged)."""
    ks, ps, ds = _scaled(expanded), _scaled(scores.keyword), _scaled(scores.dense)
    fused = 0.3 * ks + 0.7 * ds
    pool = np.unique(
        np.concatenate([np.argsort(-v, kind="stable")[:LEARNED_POOL] for v in (ks, ds, fused)])
    )
    ranks = []
    for v in (ks, ds):
        r = np.empty(len(v))
        r[np.argsort(-v, kind="stable")] = np.arange(1, len(v) + 1)
        ranks.append(r)
    lk, ld = _lead(ks), _lead(ds)
    kz = (scores.keyword - null.keyword[0]) / null.keyword[1]
    dz = (scores.dense - null.dense[0]) / null.dense[1]
    columns = [
        ks, ps, ds, kz, dz, 1 / ranks[0], 1 / ranks[1],
        np.full(len(ks), lk), np.full(len(ks), ld), lk * ks, ld * ds,
        np.log(chunk_counts), np.log1p(lengths),
    ]  # fmt: skip
    return pool, np.stack([c[pool] for c in columns], axis=1)


def _learned(
    c: float,
    pools: list[tuple[np.ndarray, np.ndarray]],
    labels: list[np.ndarray],
    docs: np.ndarray,
    fit_rows: list[int],
    rows: list[int],
) -> np.ndarray:
    """Logistic regression on (question, document) features fitted on ``fit_rows`` only; the
    rank of each of ``rows``' first relevant document in its order (99 beyond the tenth)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([pools[i][1] for i in fit_rows])
    y = np.concatenate([labels[i] for i in fit_rows])
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    ).fit(x, y)
    found = []
    for i in rows:
        pool, features = pools[i]
        score = model.decision_function(features)
        order = np.lexsort((docs[pool], -np.round(score, 6)))[:10]
        found.append(next((r for r, j in enumerate(order, 1) if labels[i][j]), 99))
    return np.asarray(found)


def _variants(
    index: Any, search: Any, questions: list[Any], scores: dict[str, Any]
) -> dict[str, dict[object, dict[str, np.ndarray]]]:
    """The keyword (``BM25_VARIANTS``) and dense (``DENSE_VARIANTS``) scores of each question."""
    import bm25s

    from knowledge.keywords import K1, terms
    from knowledge.search import NULL_QUESTIONS

    starts = index.starts
    ends = np.asarray([*starts[1:], len(index.texts)])
    whole = [index.text_of(d) for d in range(index.size)]
    keyword: dict[object, dict[str, np.ndarray]] = {}
    for method, b in BM25_VARIANTS:
        retriever = bm25s.BM25(k1=K1, b=b, method=method)
        retriever.index([terms(t) for t in whole], show_progress=False)

        def bm25(text: str, retriever: Any = retriever) -> np.ndarray:
            wanted = [t for t in dict.fromkeys(terms(text)) if t in retriever.vocab_dict]
            if not wanted:
                return np.zeros(len(whole))
            return np.asarray(retriever.get_scores(wanted), np.float64)

        keyword[(method, b)] = {q.id: bm25(q.text) for q in questions}

    def best(vector: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(index.vectors @ vector, starts).astype(np.float64)

    null = np.stack([best(v) for v in search._encode(list(NULL_QUESTIONS))])
    mean, spread = null.mean(axis=0), np.maximum(null.std(axis=0), 0.02)
    header = np.asarray([int(m.get("chunk", 0)) == 0 for m in index.metas])
    chunks = np.log(ends - starts)

    def of(q: Any, how: tuple[Any, ...]) -> np.ndarray:
        s = scores[q.id]
        if how[0] == "null-centred":
            return np.asarray(s.dense - how[1] * mean)
        if how[0] == "null z":
            return np.asarray((s.dense - mean) / spread)
        if how[0] == "chunk prior":
            return np.asarray(s.dense - how[1] * chunks)
        cosine = s.chunks[0]
        if how[0] == "header":
            head = np.maximum.reduceat(np.where(header, cosine, -1.0), starts)
            body = np.maximum.reduceat(np.where(~header, cosine, -1.0), starts)
            body, head = np.where(body < -0.5, head, body), np.where(head < -0.5, body, head)
            return np.asarray(how[1] * head + (1 - how[1]) * body)
        # Rocchio: the question's vector moved towards the best chunks of the top documents
        # of the plain fusion (BM25 and meaning, weight 0.3)
        k, beta = how[1], how[2]
        plain = 0.3 * _scaled(s.keyword) + 0.7 * _scaled(s.dense)
        top = np.argsort(-plain, kind="stable")[:k]
        picked = [int(starts[t]) + int(np.argmax(cosine[starts[t] : ends[t]])) for t in top]
        vector = search._encode([q.text])[0] + beta * index.vectors[picked].mean(axis=0)
        return best(vector / np.linalg.norm(vector))

    dense: dict[object, dict[str, np.ndarray]] = {
        how: {q.id: of(q, how) for q in questions} for how in DENSE_VARIANTS
    }
    keyword.update(_round4(index, questions, scores))
    return {"keyword": keyword, "dense": dense}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=("latency", "cold", "cv"))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, help="a Medic data directory with postmortems")
    parser.add_argument("--old", type=Path, help="a checkout of the previous version")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="cv: where the corpora's store is (kept)")
    parser.add_argument("--test", action="store_true", help="cv: ask the held-back split once")
    parser.add_argument(
        "--only", action="append", help="cv: this family alone (repeatable; the current too)"
    )
    args = parser.parse_args()
    if args.what == "cv":
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="medic-cv-"))
        print(json.dumps(cv(args.data, workdir, args.test, args.only), indent=1))
        return
    if args.what == "latency":
        print(json.dumps(latency(args.data, args.docs, args.queries)))
        return
    if args.data_dir is None or args.old is None:
        raise SystemExit("cold needs --data-dir and --old")
    print(json.dumps(cold(args.data_dir, args.old, args.runs)))


if __name__ == "__main__":
    main()
