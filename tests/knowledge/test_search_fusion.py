"""The fusion weight the generalisation protocol kept on the grown dev questions: a postmortem
that keywords find far ahead of everything else keeps first place over one that meaning prefers
only a little (the class of the held-back misses: short stories BM25 ranks first, meaning
ranks mid-corpus). No model is loaded: the two rankings' scores are given."""

from __future__ import annotations

import numpy as np

from knowledge.search import Scores


def test_a_clear_keyword_hit_that_meaning_ranks_midway_stays_first() -> None:
    # 0: the short story whose words the question uses; 1: a long write-up meaning likes a
    # little more, no keyword in common; 2-3: weak matches of both.
    keyword = np.asarray([12.0, 0.0, 3.0, 1.0])
    dense = np.asarray([0.27, 0.60, 0.20, 0.25])
    scores = Scores(keyword=keyword, dense=dense, chunks=[dense])
    assert int(np.argmax(scores.fused())) == 0
    # meaning still decides when the keyword side is not clear
    even = Scores(keyword=np.asarray([3.0, 2.5, 0.0, 1.0]), dense=dense, chunks=[dense])
    assert int(np.argmax(even.fused())) == 1
