"""`medic eval postmortems`: postmortem search measured with on-call questions
(``postmortem_questions.jsonl``: each question, the canonical ids of the postmortems that answer
it, and its split), through the same search ``medic search`` runs, beside keyword (BM25) and
embedding ranking alone over the same index in the same run.

Off-topic questions (no relevant document) measure the relevance calibration: the share of them
that got any result marked relevant. The questions are split: parameters are chosen on ``dev``
and reported on ``test``, the held-back half.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embeddings import MiniLMEmbedding
from knowledge.log_files import ReadReport
from knowledge.postmortems import JSON_LINES, PostmortemLibrary, read_postmortems
from knowledge.query_encoder import query_encoder
from knowledge.search import HybridSearch
from knowledge.search_index import SearchIndex, open_index
from knowledge.store import open_chroma

QUESTIONS = Path(__file__).with_name("postmortem_questions.jsonl")
SPLITS = ("dev", "test", "all")
KS = (1, 3, 10)
LIMIT = 10
MAX_QUESTIONS = 10_000


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    relevant: frozenset[str]
    split: str


def load_questions(path: Path) -> list[Question]:
    """The questions of a JSON-lines file; ``ValueError`` names the first bad line."""
    questions: list[Question] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            relevant = item.get("relevant", [])
            if not isinstance(item["question"], str) or not isinstance(relevant, list):
                raise TypeError
            questions.append(
                Question(
                    id=str(item.get("id") or f"line{number}"),
                    text=item["question"][:1000],
                    relevant=frozenset(str(r) for r in relevant),
                    split=str(item.get("split", "test")),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"{path}:{number}: not a question (want {{question, relevant, split}})"
            ) from exc
        if len(questions) > MAX_QUESTIONS:
            raise ValueError(f"{path}: more than {MAX_QUESTIONS} questions")
    if not questions:
        raise ValueError(f"{path}: no questions")
    return questions


def ingest_corpora(data: Path, embedder: MiniLMEmbedding, workdir: Path) -> SearchIndex:
    """Every JSON-lines corpus under ``data`` in a fresh store in ``workdir``; its index."""
    client = open_chroma(workdir / "chroma")
    library = PostmortemLibrary(client, embedder)
    report = ReadReport()
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() in JSON_LINES)
    for file in files:
        library.ingest(read_postmortems(file, report))
    return open_index(library.collection, workdir / "search")


def _scores(ranked: Sequence[Sequence[str]], questions: Sequence[Question]) -> dict[str, Any]:
    firsts = []
    for docs, question in zip(ranked, questions, strict=True):
        found = [i for i, d in enumerate(docs[:LIMIT], 1) if d in question.relevant]
        firsts.append(found[0] if found else None)
    n = max(len(firsts), 1)
    result: dict[str, Any] = {
        f"hit@{k}": round(sum(1 for f in firsts if f and f <= k) / n, 4) for k in KS
    }
    result["mrr"] = round(sum(1 / f for f in firsts if f) / n, 4)
    return result


def ranking(values: np.ndarray, keys: Sequence[str]) -> list[str]:
    order = np.lexsort((np.asarray(keys), -np.round(values, 6)))[:LIMIT]
    return [keys[int(i)] for i in order]


def evaluate(
    search: HybridSearch, questions: Sequence[Question], split: str = "test"
) -> dict[str, Any]:
    """hit@k and MRR@10 of the hybrid search and of each of its two rankings alone, and the
    share of off-topic questions with a result marked relevant, on ``split``."""
    chosen = [q for q in questions if split in ("all", q.split)]
    on_topic = [q for q in chosen if q.relevant]
    off_topic = [q for q in chosen if not q.relevant]
    keys = search.keys
    hybrid, keyword, dense = [], [], []
    for question in on_topic:
        hybrid.append([h.id for h in search.search(question.text, LIMIT)])
        scores = search.scores(question.text)
        keyword.append(ranking(scores.keyword, keys))
        dense.append(ranking(scores.dense, keys))
    marked = [q.id for q in off_topic if any(h.relevant for h in search.search(q.text, LIMIT))]
    misses = [
        {"id": q.id, "first": next((i for i, d in enumerate(r, 1) if d in q.relevant), None)}
        for q, r in zip(on_topic, hybrid, strict=True)
        if not r or r[0] not in q.relevant
    ]
    relevant_first = [
        q.id
        for q in on_topic
        if (hits := search.search(q.text, 1)) and hits[0].relevant and hits[0].id in q.relevant
    ]
    return {
        "split": split,
        "queries": len(on_topic),
        **_scores(hybrid, on_topic),
        "baselines": {"bm25": _scores(keyword, on_topic), "dense": _scores(dense, on_topic)},
        "off_topic": len(off_topic),
        "off_topic_marked_relevant": round(len(marked) / max(len(off_topic), 1), 4),
        "on_topic_first_marked_relevant": round(len(relevant_first) / max(len(on_topic), 1), 4),
        "misses": misses,
    }


def evaluate_postmortems(
    data: Path,
    questions_file: Path,
    embedder: MiniLMEmbedding,
    workdir: Path,
    split: str = "test",
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    started = time.perf_counter()
    questions = load_questions(questions_file)
    progress(f"embedding the postmortems under {data}")
    index = ingest_corpora(data, embedder, workdir)
    search = HybridSearch([index], query_encoder())
    result = evaluate(search, questions, split)
    result["documents"] = index.size
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result
