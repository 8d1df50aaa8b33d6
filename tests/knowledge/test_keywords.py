"""Keyword relevance with a library's stemmer and BM25: inflections meet, hyphenated words split,
stop words do not count, and the index survives a save and load."""

from __future__ import annotations

from pathlib import Path

from knowledge.keywords import KeywordIndex, feedback_terms, terms

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


FEEDBACK_DOCS = [
    "Istio sidecar injection failed during the rollout: the envoy webhook rejected new pods.",
    "Envoy webhook timeouts took the Istio control plane down.",
    "Disk filled by audit logs after log rotation was disabled.",
]


def test_a_write_up_in_the_best_matchs_words_is_found_through_feedback() -> None:
    # The second postmortem shares no word with the question, only the vocabulary of the
    # question's best match (istio, envoy, webhook): plain BM25 cannot see it, feedback can.
    index = KeywordIndex.build(FEEDBACK_DOCS)
    question = "sidecar injection failed in the rollout"
    plain = index.scores(question)
    assert plain[0] > 0 and plain[1] == plain[2] == 0
    expanded = index.feedback(question, plain, FEEDBACK_DOCS.__getitem__, docs=1)
    assert expanded.argmax() == 0 and expanded[1] > 0 and expanded[2] == 0
    # nothing matched: nothing to learn from, nothing invented
    unmatched = index.scores("banana bread")
    assert not index.feedback("banana bread", unmatched, FEEDBACK_DOCS.__getitem__).any()


def test_feedback_words_leave_out_the_question_and_words_every_document_has() -> None:
    found = feedback_terms(
        ["disk"],
        [["disk", "audit", "log", "outag"], ["disk", "outag"]],
        [2.0, 1.0],
        {"disk": 2, "audit": 1, "log": 1, "outag": 4}.__getitem__,
        4,
    )
    assert [w for w, _ in found] == ["audit", "log"]  # "outag" is in every document
