"""The postmortem questions `medic eval postmortems` asks: enough on each side of the split to
tell candidates apart, the grown sets split by crc32 of the id as docs/benchmarks.md says, and
every answer named by its canonical id (the id a search result carries)."""

from __future__ import annotations

import zlib

from knowledge.canonical import canonical_url
from knowledge.evaluation.postmortems import QUESTIONS, load_questions


def test_the_questions_are_many_split_by_their_id_and_name_canonical_answers() -> None:
    questions = load_questions(QUESTIONS)
    on_topic = [q for q in questions if q.relevant]
    assert len({q.id for q in questions}) == len(questions)
    assert len(on_topic) >= 180
    for split in ("dev", "test"):
        assert sum(q.split == split for q in on_topic) >= 90
    grown = [q for q in on_topic if q.id[0] in "nh"]
    assert len(grown) >= 110
    for q in grown:
        assert q.split == ("dev" if zlib.crc32(q.id.encode()) % 2 == 0 else "test"), q.id
    for q in on_topic:
        assert all(canonical_url(r) == r for r in q.relevant), q.id
