"""The similar-incident area of the generalisation protocol, on a small synthetic corpus: the
candidates score what ``knowledge.matching`` scores, and a part stays only when it helps on
hours the choice never saw."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from benchmarks.generalization.similar import (
    COMPONENTS,
    PARTS,
    VIEWS,
    WIDTHS,
    Config,
    Corpus,
    Item,
    PairwiseWeights,
    against_the_shipped,
    combine,
    decide,
    distances,
    first_alike,
    hubness,
    victims_profile,
    weighted,
)
from knowledge.matching import (
    CHOSEN,
    Query,
    TemplateRarity,
    evidence_similarity,
    match_parts,
    score_match,
)
from knowledge.records import IncidentRecord

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


def test_a_shipped_configuration_better_than_where_the_selection_ended_is_the_choice() -> None:
    # the selection tried nothing (it ends at issue 4's scoring); the live path ships the evidence
    # profile, which tells alike incidents apart on every hour: the protocol keeps what ships
    data = corpus()
    config, kept, _ = decide(data, ())
    shipped = replace(config, evidence=True)
    chosen, candidates, final = against_the_shipped(data, config, kept, shipped)
    assert final is not None and final.keeps
    assert chosen == shipped
    assert [m.name for m in candidates] == [config.name, shipped.name]
    # and a shipped configuration the selection already holds is not compared again
    assert against_the_shipped(data, shipped, candidates, shipped)[2] is None


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


def test_the_shipped_default_scores_every_match_as_the_live_path_does() -> None:
    # the benchmark's "shipped default" is read from the live setting (knowledge.matching.CHOSEN),
    # so what the protocol reports for it is what a user's memory computes: the same
    # similarity for every past incident, from the same parts
    shipped = Config.of(CHOSEN)
    query = Query(
        "ts-order",
        ["ERROR call to <*> timed out"],
        ["latency_p95"],
        suspects={"ts-order": 1.0, "ts-travel": 0.6},
        evidence={"ts-order delay": 1.4, "ts-travel delay": 1.1, "ts-basic flow": 0.5},
    )
    records = [
        IncidentRecord(
            id=f"INC-{k}",
            title="past",
            service=service,
            templates=templates,
            abnormal_metrics=["latency_p99"] if k % 2 else [],
            evidence=evidence,
            root_cause="unknown",
            cause="unknown",
        )
        for k, (service, templates, evidence) in enumerate(
            (
                ("ts-order", ["ERROR call to <*> timed out"], {"ts-order errors": 1.0}),
                ("ts-travel", [], {"ts-seat delay": 2.0, "ts-station flow": 0.3}),
                ("ts-seat", ["WARN slow"], {"ts-order delay": 1.0, "ts-travel delay": 1.0}),
                ("ts-basic", [], {}),
            )
        )
    ]
    rarity = TemplateRarity(r.templates for r in records)
    for k, record in enumerate(records):
        text = 0.3 + 0.1 * k
        parts, _ = match_parts(record, text, query, rarity)
        row = np.full(len(PARTS), np.nan)
        for name, value in (
            ("text", parts.text),
            ("templates", parts.templates),
            ("place@1", float(record.service == query.service)),
            ("place@k", parts.place),
            ("metrics", parts.metrics),
            ("evidence", parts.evidence),
            ("shape", parts.shape),
        ):
            row[PARTS.index(name)] = np.nan if value is None else value
        benchmark = float(combine(row[None, :], shipped.vector())[0])
        live = score_match(record, text, query, rarity).similarity
        assert round(benchmark, 4) == live


def test_the_same_victims_around_the_same_root_match_whichever_the_ranking_named() -> None:
    # a tried part (fifth pass): the fault on ts-basic slowed its two callers both times, but
    # the ranking weighed different callers' channels; by hops from the past root they agree
    edges = {frozenset(e) for e in (("a", "basic"), ("b", "basic"), ("b", "c"))}
    hops = distances(edges, "basic")
    assert hops == {"basic": 0, "a": 1, "b": 1, "c": 2}
    now = {"a delay": 1.0, "c flow": 0.5, "config saturation": 0.2}
    then = {"b delay": 1.0, "a flow": 0.1, "b flow": 0.4, "news saturation": 0.2}
    assert evidence_similarity(now, then) < 0.1  # by name they look unrelated
    mine, theirs = victims_profile(now, hops), victims_profile(then, hops)
    assert mine == {"1 delay": 1.0, "2 flow": 0.5, "off saturation": 0.2}
    assert evidence_similarity(mine, theirs) > 0.7


def test_a_past_incident_alike_to_every_other_is_discounted_as_a_hub() -> None:
    # record 1 scores high against every query (a hub); record 2 only against this query (0)
    every = np.array(
        [
            [0.0, 0.60, 0.55, 0.10],
            [0.60, 0.0, 0.58, 0.59],
            [0.55, 0.20, 0.0, 0.10],
            [0.10, 0.61, 0.15, 0.0],
        ]
    )
    hub = hubness(every, 0, 1)
    assert hub[1] > hub[2]
    adjusted = every[0] - hub / 2.0
    assert adjusted[2] > adjusted[1]  # the specific match now leads the hub


def test_the_pairwise_ranker_learns_the_part_that_puts_the_alike_incident_first() -> None:
    data = corpus()
    parts = ("text", "templates", "place@k", "metrics", "evidence")
    ranker = PairwiseWeights("pairwise ranker", data, parts, WIDTHS[0])
    fitted = ranker.fit(data.items)
    assert int(np.argmax(fitted)) == PARTS.index("evidence")
    ranks = ranker.outcomes(fitted, data.items)
    text_only = weighted("text", data, np.eye(len(PARTS))[0]).outcomes(None, data.items)
    assert sum(r == 1 for r in ranks) > sum(r == 1 for r in text_only)
