"""Keyword relevance with a library's stemmer and BM25: inflections meet, hyphenated words split,
stop words do not count, and the index survives a save and load."""

from __future__ import annotations

from pathlib import Path

from knowledge.keywords import KeywordIndex, terms

DOCS = [
    "How a production outage was caused using Kubernetes Pod Priorities. Cascading Pod evictions.",
    "A typo in the zone file made every DNS lookup fail.",
    "The connection pool was exhausted after the deploy.",
]


def test_inflections_and_hyphenated_words_meet() -> None:
    assert terms("evict evictions evicted") == ["evict", "evict", "evict"]
    assert terms("higher-priority") == ["higher", "prioriti"] == terms("Higher priorities")
    assert terms("the of and") == []


def test_a_question_in_other_words_finds_its_document() -> None:
    index = KeywordIndex.build(DOCS)
    scores = index.scores("higher-priority pods evict other pods")
    assert scores.argmax() == 0 and scores[1] == scores[2] == 0


def test_no_match_and_an_empty_index_score_zero(tmp_path: Path) -> None:
    assert not KeywordIndex.build(DOCS).scores("banana bread").any()
    assert KeywordIndex.build([]).scores("dns").shape == (0,)
    index = KeywordIndex.build(DOCS)
    index.save(tmp_path / "bm25")
    again = KeywordIndex.load(tmp_path / "bm25", len(DOCS))
    assert (again.scores("zone file typo") == index.scores("zone file typo")).all()


def test_a_pasted_log_is_bounded() -> None:
    index = KeywordIndex.build(DOCS)
    assert index.scores("dns " * 100_000 + "pool").shape == (3,)
