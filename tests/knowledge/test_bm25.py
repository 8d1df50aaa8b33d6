"""The keyword index: BM25 ranking from postings, documents replaced and removed in place, and
a file that reloads to the same answers."""

from __future__ import annotations

from pathlib import Path

from knowledge.bm25 import KeywordIndex

DOCS = {
    "dns": "A typo in the DNS zone file broke every lookup of the api for forty minutes",
    "disk": "The disk filled up with audit logs after log rotation was disabled",
    "pool": "The database connection pool was exhausted after a deploy doubled the workers",
    "cert": "An expired TLS certificate broke every login for an hour",
}


def index() -> KeywordIndex:
    found = KeywordIndex()
    found.add_all(DOCS.items())
    return found


def test_rare_terms_rank_their_documents_first_and_stop_words_find_nothing() -> None:
    found = index()
    assert [doc for doc, _ in found.top("zone file typo", 2)] == ["dns"]
    ranked = found.top("broke login", 4)
    assert ranked[0][0] == "cert" and ranked[1][0] == "dns"  # login is rarer than broke
    assert found.top("the of an", 4) == []


def test_documents_are_replaced_and_removed_in_place() -> None:
    found = index()
    found.add("disk", "The disk filled with core dumps")
    assert found.top("audit rotation", 4) == []
    assert found.top("core dumps", 1)[0][0] == "disk"
    found.remove("pool")
    assert found.top("connection pool", 4) == []
    assert found.size == 3 and "pool" not in found


def test_saved_index_reloads_with_the_same_answers(tmp_path: Path) -> None:
    found = index()
    found.remove("cert")
    found.add("late", "A late document about the connection pool")
    found.source = "4:abc"
    found.save(tmp_path / "k.npz")
    again = KeywordIndex.load(tmp_path / "k.npz")
    assert again.source == "4:abc" and sorted(again.ids()) == ["disk", "dns", "late", "pool"]
    for query in ("connection pool", "disk audit logs", "certificate", "lookup api"):
        assert again.top(query, 4) == found.top(query, 4)
    again.add("cert", DOCS["cert"])  # a loaded index keeps taking documents
    assert again.top("certificate", 1)[0][0] == "cert"
