"""Postmortems in (Markdown, JSON lines) and hybrid search over them and remembered incidents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chromadb.api import ClientAPI

from knowledge.embeddings import MiniLMEmbedding
from knowledge.log_files import ReadReport
from knowledge.memory import COLLECTION as INCIDENTS
from knowledge.memory import IncidentMemory
from knowledge.postmortems import COLLECTION as POSTMORTEMS
from knowledge.postmortems import PostmortemLibrary, read_postmortems
from knowledge.records import IncidentRecord
from knowledge.search import HybridSearch
from knowledge.store import collection, open_chroma

pytestmark = pytest.mark.slow


def write_postmortems(directory: Path) -> None:
    directory.mkdir()
    (directory / "dns.md").write_text(
        "# Resolver outage\n\nurl: https://status.example/dns\n\n"
        "A typo in the zone file made every lookup of api.example fail for 40 minutes.\n"
    )
    rows = [
        {"title": "Disk filled by audit logs", "summary": "Log rotation was disabled.", "url": ""},
        {"summary": "Connection pool exhausted after a deploy doubled the worker count."},
        {"company": "nobody"},
    ]
    (directory / "more.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")


def test_postmortems_are_read_from_markdown_and_json_lines(tmp_path: Path) -> None:
    write_postmortems(tmp_path / "pm")
    report = ReadReport()
    found = list(read_postmortems(tmp_path / "pm", report))
    assert [p.title for p in found][:2] == ["Resolver outage", "Disk filled by audit logs"]
    assert found[0].url == "https://status.example/dns"
    assert found[2].title.startswith("Connection pool exhausted")
    assert report.skipped == {"JSON without title/summary/body": 1, "unparseable JSON": 1}


def stored(tmp_path: Path, embedder: MiniLMEmbedding) -> tuple[ClientAPI, PostmortemLibrary]:
    write_postmortems(tmp_path / "pm")
    client = open_chroma(tmp_path / "chroma")
    return client, PostmortemLibrary(client, embedder)


def test_hybrid_search_finds_by_keyword_and_by_meaning(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    client, library = stored(tmp_path, embedder)
    progress: list[int] = []
    assert library.ingest(read_postmortems(tmp_path / "pm", ReadReport()), progress.append) == (
        3,
        3,
    )
    assert sum(progress) == 3
    IncidentMemory(client, embedder).add(
        IncidentRecord(
            id="INC-9",
            title="checkout latency from database connection pool saturation",
            service="checkout",
            root_cause="pool too small",
            cause="pool-exhaustion",
        )
    )
    search = HybridSearch(
        [collection(client, n, embedder) for n in (POSTMORTEMS, INCIDENTS)], embedder
    )
    assert search.search("zone file typo", limit=1)[0].title == "Resolver outage"
    by_meaning = search.search("name resolution broke", limit=1)[0]
    assert by_meaning.title == "Resolver outage" and by_meaning.keyword_rank is None
    kinds = {h.kind for h in search.search("connection pool exhausted", limit=3)[:2]}
    assert kinds == {"postmortem", "incident"}


def test_keyword_indexes_persist_and_follow_the_store(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    client, library = stored(tmp_path, embedder)
    library.ingest(read_postmortems(tmp_path / "pm", ReadReport()))
    store = collection(client, POSTMORTEMS, embedder)
    index_dir = tmp_path / "search"
    HybridSearch([store], embedder, index_dir)
    saved = index_dir / f"{POSTMORTEMS}.keywords.npz"
    assert saved.exists()
    (tmp_path / "pm2").mkdir()
    (tmp_path / "pm2" / "queue.md").write_text("# Queue backlog\n\nThe kafka consumer lag grew.\n")
    library.ingest(read_postmortems(tmp_path / "pm2", ReadReport()))
    store.delete(where={"title": "Resolver outage"})
    search = HybridSearch([store], embedder, index_dir)
    assert search.size == 3
    assert search.search("kafka consumer lag", limit=1)[0].keyword_rank == 1
    assert all(h.title != "Resolver outage" for h in search.search("zone file typo"))
    saved.write_bytes(b"not an index")
    assert HybridSearch([store], embedder, index_dir).size == 3  # rebuilt from the store
