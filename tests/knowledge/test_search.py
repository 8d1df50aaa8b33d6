"""Postmortems in (Markdown, JSON lines) and hybrid search over them and remembered incidents:
one result per document, relevance that an off-topic question does not clear, a strong hit of
one ranking alone kept, every field indexed."""

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
from knowledge.postmortems import Postmortem, PostmortemLibrary, read_postmortems
from knowledge.query_encoder import query_encoder
from knowledge.records import IncidentRecord
from knowledge.search import HybridSearch, SearchHit
from knowledge.search_index import SearchIndex, open_index
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
    assert found[0].id == "https://status.example/dns"  # the canonical id
    # a title made from the text is its first words, not cut off with " ..."
    assert found[2].title == "Connection pool exhausted after a deploy doubled the worker count"
    assert report.skipped == {"JSON without title/summary/body": 1, "unparseable JSON": 1}


def test_a_made_up_title_has_no_ellipsis() -> None:
    long = {"company": "Acme", "summary": " ".join(f"word{i}" for i in range(40)) + "."}
    (made,) = _from_rows([long])
    assert made.title == "Acme: " + " ".join(f"word{i}" for i in range(10))
    assert not made.title.endswith("...")


def _from_rows(rows: list[dict[str, object]]) -> list[Postmortem]:
    from knowledge.postmortems import _from_json

    found = [_from_json(r, "test") for r in rows]
    return [p for p in found if p is not None]


def test_the_title_is_not_repeated_in_chunk_text() -> None:
    (postmortem,) = _from_rows(
        [
            {
                "title": "Kubernetes Networking Problems Due to the Conntrack",
                "summary": "Kubernetes Networking Problems Due to the Conntrack — impact: errors",
                "impact": "errors",
                "description": "The conntrack table filled.\n\nPackets were dropped.",
            }
        ]
    )
    header, *body = postmortem.chunks()
    assert header.startswith("Kubernetes Networking Problems Due to the Conntrack.")
    assert body == ["The conntrack table filled.\n\nPackets were dropped."]


def stored(tmp_path: Path, embedder: MiniLMEmbedding) -> tuple[ClientAPI, PostmortemLibrary]:
    write_postmortems(tmp_path / "pm")
    client = open_chroma(tmp_path / "chroma")
    return client, PostmortemLibrary(client, embedder)


def searcher(
    client: ClientAPI, embedder: MiniLMEmbedding, index_dir: Path | None = None
) -> HybridSearch:
    return HybridSearch(
        [
            open_index(collection(client, name, embedder), index_dir)
            for name in (POSTMORTEMS, INCIDENTS)
        ],
        query_encoder(),
    )


def test_hybrid_search_finds_by_keyword_and_by_meaning(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    client, library = stored(tmp_path, embedder)
    progress: list[int] = []
    assert library.ingest(read_postmortems(tmp_path / "pm", ReadReport()), progress.append) == (
        3,
        6,  # a header chunk (title, impact, tags) and the text of each
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
    search = searcher(client, embedder)
    assert search.search("zone file typo", limit=1)[0].title == "Resolver outage"
    by_meaning = search.search("name resolution broke", limit=1)[0]
    assert by_meaning.title == "Resolver outage" and by_meaning.keyword_rank is None
    kinds = {h.kind for h in search.search("connection pool exhausted", limit=3)[:2]}
    assert kinds == {"postmortem", "incident"}
    snippet = search.search("zone file typo", limit=1)[0].snippet
    assert snippet.startswith("A typo in the zone file")  # not "Resolver outage. A typo..."


def test_the_index_persists_and_follows_the_store(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    client, library = stored(tmp_path, embedder)
    library.ingest(read_postmortems(tmp_path / "pm", ReadReport()))
    store = collection(client, POSTMORTEMS, embedder)
    index_dir = tmp_path / "search"
    first = open_index(store, index_dir)
    saved = index_dir / POSTMORTEMS
    assert SearchIndex.load(saved).docs == first.docs
    (tmp_path / "pm2").mkdir()
    (tmp_path / "pm2" / "queue.md").write_text("# Queue backlog\n\nThe kafka consumer lag grew.\n")
    library.ingest(read_postmortems(tmp_path / "pm2", ReadReport()))
    store.delete(where={"title": "Resolver outage"})
    search = HybridSearch([open_index(store, index_dir)], query_encoder())
    assert search.size == 3
    assert search.search("kafka consumer lag", limit=1)[0].keyword_rank == 1
    assert all(h.title != "Resolver outage" for h in search.search("zone file typo"))
    (saved / "chunks.json").write_text("not an index")
    assert open_index(store, index_dir).size == 3  # rebuilt from the store


INCIDENTS_TOLD = [
    ("Resolver outage", "A typo in the zone file made every lookup of the api domain fail.", []),
    ("Checkout slow", "The database connection pool was exhausted after a deploy.", ["postgres"]),
    ("Disk full", "Audit logs filled the root volume because rotation was disabled.", []),
    ("Certificate expired", "The TLS certificate of the gateway expired on a Sunday.", []),
    ("Queue backlog", "Consumers fell behind and the kafka lag reached hours.", []),
    ("Bad feature flag", "A flag rolled out to everyone crashed the mobile app on start.", []),
    ("Memory leak", "A cache without eviction grew until the workers were OOM killed.", []),
    ("Clock skew", "NTP stopped on one host and signed tokens were rejected.", []),
    ("Packet loss", "A failing switch port dropped packets between two racks.", ["conntrack"]),
    ("Region failover", "Traffic moved to the second region and its caches were cold.", []),
    ("Pod evictions", "Pod Priorities made the scheduler evict running pods.", []),
    ("Retry storm", "Clients retried without backoff and overloaded the search service.", []),
]


def told(tmp_path: Path, embedder: MiniLMEmbedding, extra: list[dict[str, object]]) -> HybridSearch:
    rows: list[dict[str, object]] = [
        {"title": t, "summary": s, "tags": tags, "url": f"https://pm.example/{i}"}
        for i, (t, s, tags) in enumerate(INCIDENTS_TOLD)
    ]
    (tmp_path / "told.jsonl").write_text("\n".join(json.dumps(r) for r in [*rows, *extra]))
    client = open_chroma(tmp_path / "chroma")
    PostmortemLibrary(client, embedder).ingest(
        read_postmortems(tmp_path / "told.jsonl", ReadReport())
    )
    return searcher(client, embedder)


def test_an_off_topic_question_gets_no_result_marked_relevant(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    search = told(tmp_path, embedder, [])
    off_topic = search.search("banana bread recipe with walnuts", limit=5)
    assert len(off_topic) == 5 and not any(h.relevant for h in off_topic)
    on_topic = search.search("dns lookups failing after someone edited the zone", limit=5)
    assert on_topic[0].title == "Resolver outage" and on_topic[0].relevant


def test_an_archived_copy_and_the_original_are_one_result(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    archived = {
        "company": "Example",
        "summary": "The certificate rotation job silently failed for weeks.",
        "url": "https://web.archive.org/web/20200101000000/https://WWW.Cert.example/post/?utm_source=x",
    }
    original = {
        "title": "Gateway certificate expiry",
        "summary": "Nobody was paged when the rotation job started failing.",
        "url": "http://cert.example/post",
    }
    search = told(tmp_path, embedder, [archived, original])
    hits = search.search("certificate rotation job failing, nobody paged", limit=10)
    ids = [h.id for h in hits]
    assert ids.count("https://cert.example/post") == 1 and ids[0] == "https://cert.example/post"
    assert hits[0].title == "Gateway certificate expiry"  # the record with a real title
    # the evidence of both records counts for the one document
    assert search.search("silently for weeks", limit=1)[0].id == "https://cert.example/post"
    assert search.search("nobody paged", limit=1)[0].id == "https://cert.example/post"


def test_a_strong_hit_of_one_ranking_alone_stays_first(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    # Words of the question appear in unrelated postmortems only; the answer shares none of
    # them. Reciprocal-rank fusion put the keyword matches (ranked by both) above it.
    decoys = [
        {"title": f"Billing run {i}", "summary": f"Invoices for the service plan, batch {i}."}
        for i in range(4)
    ]
    search = told(tmp_path, embedder, decoys)
    hits = search.search("name resolution broke across the service", limit=3)
    assert hits[0].title == "Resolver outage" and hits[0].keyword_rank is None
    every = search.search("name resolution broke across the service", limit=20)
    assert hits[0].relevant and any(h.title.startswith("Billing") for h in every if h.keyword_rank)


def test_stems_and_tags_are_searched(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    search = told(tmp_path, embedder, [])
    evicted = search.search("higher-priority pods evicted", limit=1)[0]
    assert evicted.title == "Pod evictions" and evicted.keyword_rank == 1
    tagged = search.search("conntrack", limit=1)[0]  # only in the tags of "Packet loss"
    assert tagged.title == "Packet loss" and tagged.keyword_rank == 1


def test_results_are_one_per_document_and_carry_relevance(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    search = told(tmp_path, embedder, [])
    hits: list[SearchHit] = search.search("pool exhausted", limit=20)
    assert len({h.id for h in hits}) == len(hits) == len(INCIDENTS_TOLD)
    assert all(isinstance(h.relevant, bool) for h in hits)


def test_re_ingesting_replaces_chunks_an_earlier_version_stored_under_other_ids(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    client, library = stored(tmp_path, embedder)
    old_style = {
        "kind": "postmortem",
        "title": "Resolver outage",
        "url": "https://status.example/dns",
    }
    library.collection.upsert(
        ids=["pm-0123456789abcdef-0"],
        documents=["Resolver outage. A typo in the zone file."],
        embeddings=[embedder.encode(["Resolver outage"])[0].tolist()],
        metadatas=[{**old_style, "doc": "0123456789abcdef", "chunk": 0}],
    )
    library.ingest(read_postmortems(tmp_path / "pm", ReadReport()))
    hits = searcher(client, embedder).search("zone file typo", limit=10)
    assert [h.id for h in hits].count("0123456789abcdef") == 0
    assert hits[0].id == "https://status.example/dns"
