"""The similar-incident area of the generalisation protocol, on a small synthetic corpus: the
candidates score what ``knowledge.matching`` scores, and a part stays only when it helps on
hours the choice never saw."""

from __future__ import annotations

import numpy as np

from benchmarks.generalization.similar import (
    COMPONENTS,
    PARTS,
    VIEWS,
    WIDTHS,
    Corpus,
    Item,
    combine,
    decide,
    first_alike,
)

LABELS = 4  # faults, each hitting three incidents at three different hours
HOURS = ("08:00", "09:00", "10:00", "11:00")


def corpus(seed: int = 7) -> Corpus:
    """Incidents whose text and templates are noise and whose evidence profile tells alike
    incidents apart (a fault that does the same thing each time, worded differently)."""
    rng = np.random.default_rng(seed)
    count = 3 * LABELS
    label = [k % LABELS for k in range(count)]
    alike = np.array(
        [[q != r and label[q] == label[r] for r in range(count)] for q in range(count)]
    )
    parts = rng.uniform(0.0, 1.0, (len(VIEWS), len(WIDTHS), count, count, len(PARTS)))
    evidence = PARTS.index("evidence")
    parts[..., evidence] = np.where(alike, 0.9, 0.1) + rng.uniform(0, 0.05, parts.shape[:-1])
    parts[..., PARTS.index("namespace")] = np.nan  # never judged, as in the Nezha data
    items = tuple(
        Item(view, q, HOURS[q % len(HOURS)], "delay")
        for view in range(len(VIEWS))
        for q in range(count)
    )
    return Corpus(items, parts, alike, np.zeros((count, count)))


def test_the_evidence_profile_stays_when_it_finds_alike_incidents_on_unseen_hours() -> None:
    # the first three components: the later ones are tried the same way and only cost time
    config, kept, decisions = decide(corpus(), COMPONENTS[:3])
    assert config.evidence
    verdicts = {d.component: d.comparison.keeps for d in decisions}
    assert verdicts["evidence profile"]
    assert len(kept) > 1


def test_a_part_that_cannot_be_judged_is_left_out_of_the_score() -> None:
    parts = np.array([[1.0, 1.0, 1.0, 0.0, 1.0, 1.0, np.nan], [0.5, 0.5, 0.5, 0.0, 0.5, 0.5, 1.0]])
    weights = np.array([0.2, 0.2, 0.2, 0.0, 0.2, 0.2, 0.05])
    score = combine(parts, weights)
    assert score[0] == 1.0  # the unknown namespace costs nothing
    assert abs(score[1] - (0.5 + 0.05) / 1.05) < 1e-12


def test_the_rank_of_the_first_alike_incident_ignores_the_query_itself() -> None:
    alike = np.array([[False, False, True], [False, False, False], [True, False, False]])
    scores = np.array([1.0, 0.9, 0.8])  # the query (0) scores itself highest
    assert first_alike(scores, scores, alike, 0) == 2
