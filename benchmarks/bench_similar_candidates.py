"""What it costs to find similar incidents by evidence profile as well as by text, at 10,000
remembered incidents (issue 13, ``similar`` part).

``IncidentMemory.similar`` takes the nearest incidents by text from Chroma and, since this part,
as many again nearest by each evidence profile (``knowledge.profile_index``). The baseline in
the same run is the same memory asked without profiles (no profile candidates: what the text
and the suspects' services alone give). Records are synthetic (50 services, the ranking's
channels, random text vectors written straight into the collection so that 10,000 texts need
not be embedded); the query is embedded as in an investigation. Reported: the first call of a
process (it reads every record once: template rarity and the profile indices), then warm
calls' p50 / p95 (the two interleaved query by query, three rounds; the query's text vector
computed beforehand for both), and the index's own search. Usage:
  python benchmarks/bench_similar_candidates.py [--incidents N] [--queries Q]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from knowledge.embeddings import MiniLMEmbedding
from knowledge.matching import evidence_key
from knowledge.memory import COLLECTION, IncidentMemory, incident_text
from knowledge.profile_index import ProfileIndex
from knowledge.records import IncidentRecord
from knowledge.store import collection, open_chroma

SERVICES = [f"svc-{k:02d}" for k in range(50)]
CHANNELS = ("errors", "drops", "flow", "delay", "late", "saturation", "latency")
PAGE = 1000
ROUNDS = 3


def profile(rng: np.random.Generator, keys: int) -> dict[str, float]:
    services = rng.choice(len(SERVICES), size=keys, replace=True)
    channels = rng.choice(len(CHANNELS), size=keys, replace=True)
    return {
        evidence_key(SERVICES[s], CHANNELS[c]): float(rng.uniform(0.1, 3.0))
        for s, c in zip(services, channels, strict=True)
    }


def record(rng: np.random.Generator, k: int) -> IncidentRecord:
    service = SERVICES[int(rng.integers(len(SERVICES)))]
    return IncidentRecord(
        id=f"INC-{k:05d}",
        title=f"{service} incident {k}",
        service=service,
        symptoms=[f"{service}: p95 latency above its usual range"],
        templates=[f"WARN {service} slow call <NUM> took <DURATION>"],
        evidence=profile(rng, 6),
        neighbourhood=profile(rng, 25),
        root_cause="synthetic",
        cause="synthetic",
    )


def fill(path: Path, embedder: MiniLMEmbedding, count: int, seed: int) -> list[IncidentRecord]:
    """``count`` records written with random unit text vectors (Chroma's own upsert)."""
    rng = np.random.default_rng(seed)
    found = collection(open_chroma(path), COLLECTION, embedder)
    records = [record(rng, k) for k in range(count)]
    for start in range(0, count, PAGE):
        page = records[start : start + PAGE]
        vectors = rng.normal(size=(len(page), 384))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        found.upsert(
            ids=[r.id for r in page],
            embeddings=vectors.tolist(),  # type: ignore[arg-type]
            documents=[incident_text(r.service, r.title, r.symptoms, r.templates) for r in page],
            metadatas=[
                {"kind": "incident", "service": r.service, "record": r.model_dump_json()}
                for r in page
            ],
        )
    return records


def timed(memory: IncidentMemory, queries: list[IncidentRecord], profiles: bool) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        memory.similar(
            service=q.service,
            title=q.title,
            symptoms=q.symptoms,
            templates=q.templates,
            suspects={q.service: 1.0},
            evidence=q.evidence if profiles else None,
            neighbourhood=q.neighbourhood if profiles else None,
        )
        out.append(time.perf_counter() - start)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()
    seed = zlib.crc32(b"similar-candidates")
    embedder = MiniLMEmbedding()
    embedder.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        records = fill(Path(tmp) / "chroma", embedder, args.incidents, seed)
        rng = np.random.default_rng(seed + 1)
        queries = [record(rng, args.incidents + k) for k in range(args.queries)]
        result: dict[str, float] = {"incidents": args.incidents}
        # the queries' text vectors once beforehand (the embedder keeps them), so that both
        # passes pay the same and the difference is the search's
        embedder.encode_unique(
            [incident_text(q.service, q.title, q.symptoms, q.templates) for q in queries]
        )
        passes = (("text only (before)", False), ("text + profiles", True))
        memories = {}
        for name, profiles in passes:
            memories[name] = IncidentMemory(open_chroma(Path(tmp) / "chroma"), embedder)
            result[f"{name}: first call s"] = round(
                timed(memories[name], queries[:1], profiles)[0], 3
            )
        warm: dict[str, list[float]] = {name: [] for name, _ in passes}
        for _ in range(ROUNDS):  # interleaved, so that neither pass gets the warmer caches
            for q in queries:
                for name, profiles in passes:
                    warm[name] += timed(memories[name], [q], profiles)
        for name, _ in passes:
            result[f"{name}: warm p50 ms"] = round(1000 * statistics.median(warm[name]), 1)
            result[f"{name}: warm p95 ms"] = round(1000 * p95(warm[name]), 1)
        start = time.perf_counter()
        index = ProfileIndex({r.id: r.neighbourhood for r in records})
        result["profile index build s"] = round(time.perf_counter() - start, 3)
        start = time.perf_counter()
        for q in queries:
            index.nearest(q.neighbourhood, 20)
        result["profile index search ms"] = round(
            1000 * (time.perf_counter() - start) / len(queries), 2
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
