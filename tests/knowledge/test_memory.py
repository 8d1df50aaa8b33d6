"""The incident memory in embedded Chroma, with the real embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.embeddings import MiniLMEmbedding
from knowledge.errors import KnowledgeError
from knowledge.memory import COLLECTION, IncidentMemory, open_chroma
from knowledge.records import IncidentRecord
from knowledge.samples import sample_incidents

PAYLOAD_TEMPLATES = [
    "WARN Request payload <SIZE> exceeds soft limit <SIZE> for user u-<NUM>",
    "WARN Slow request: scoring <NUM> candidates took <DURATION>",
]


@pytest.fixture
def memory(tmp_path: Path, embedder: MiniLMEmbedding) -> IncidentMemory:
    mem = IncidentMemory(open_chroma(tmp_path / "chroma"), embedder)
    mem.seed(sample_incidents())
    return mem


def test_sample_memory_is_written_for_this_project_and_loads_once(memory: IncidentMemory) -> None:
    samples = sample_incidents()
    assert len(samples) >= 20
    assert all(s.root_cause and s.symptoms and s.log_lines and s.postmortem for s in samples)
    assert memory.count() == len(samples)
    assert memory.seed(samples) == 0


def test_similar_finds_the_payload_incident_and_explains_why(memory: IncidentMemory) -> None:
    matches = memory.similar(
        service="recommender",
        title="recommender p95 latency high",
        symptoms=["p95 latency up 11x", "request payload size up 3x"],
        templates=PAYLOAD_TEMPLATES,
    )
    # the two recommender payload surges (one fixed by scaling, one where a restart did not help)
    assert {m.record.id for m in matches[:2]} == {"PAST-001", "PAST-020"}
    assert "shares 2 of 2 error templates" in matches[0].explanation
    assert "same service" in matches[0].explanation
    assert matches[0].similarity > matches[-1].similarity


def test_unrelated_incident_is_not_the_best_match(memory: IncidentMemory) -> None:
    matches = memory.similar(
        service="auth",
        title="auth login failures",
        symptoms=["error ratio up 100x"],
        templates=["ERROR x509 certificate has expired or is not yet valid"],
    )
    assert matches[0].record.cause == "cert-expiry"


def test_remembered_incident_is_found_later_but_never_matches_itself(
    memory: IncidentMemory,
) -> None:
    record = IncidentRecord(
        id="INC-0042",
        title="recommender payload surge",
        service="recommender",
        namespace="shop",
        symptoms=["p95 latency up 11x", "request payload size up 3x"],
        templates=PAYLOAD_TEMPLATES,
        root_cause="Input size increase",
        cause="input-size-surge",
    )
    memory.add(record)
    query = {
        "service": "recommender",
        "title": "recommender payload surge",
        "symptoms": record.symptoms,
        "templates": PAYLOAD_TEMPLATES,
    }
    assert memory.similar(**query)[0].record.id == "INC-0042"  # type: ignore[arg-type]
    assert "INC-0042" not in [m.record.id for m in memory.similar(**query, exclude={"INC-0042"})]  # type: ignore[arg-type]


def test_memory_built_with_another_model_is_refused(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    client = open_chroma(tmp_path / "chroma")
    client.create_collection(
        COLLECTION, embedding_function=embedder, metadata={"embedding_model": "other@1"}
    )  # type: ignore[arg-type]
    with pytest.raises(KnowledgeError, match="medic knowledge reindex"):
        IncidentMemory(client, embedder)


def test_the_evidence_profile_is_remembered_and_tells_alike_incidents_apart(
    memory: IncidentMemory,
) -> None:
    # two past incidents of the same service with the same text; only what the fault did - a
    # slower hand-off from cart against errors in the cart - tells them apart
    for rid, channel in (("INC-DELAY", "delay"), ("INC-ERRORS", "errors")):
        memory.add(
            IncidentRecord(
                id=rid,
                title="cart incident",
                service="cart",
                evidence={f"cart {channel}": 2.0, "checkout flow": 1.0},
                root_cause="unknown",
                cause=rid.lower(),
            )
        )
    matches = memory.similar(
        service="cart",
        title="cart incident",
        symptoms=[],
        templates=[],
        evidence={"cart delay": 1.5, "checkout flow": 0.5},
        limit=2,
    )
    assert [m.record.id for m in matches] == ["INC-DELAY", "INC-ERRORS"]
    assert "same kinds of evidence" in matches[0].explanation


def test_an_incident_described_alike_is_shown_when_the_suspects_are_its_victims(
    memory: IncidentMemory,
) -> None:
    # a silent cause: ts-route throws, logs nothing new, and the ranking blames the services
    # calling it; the past ts-route incident reads the same but is on none of the suspects,
    # while three unrelated past incidents are on exactly those services
    for rid, service, title in (
        ("INC-ORDER", "ts-order", "ts-order database connection pool exhausted"),
        ("INC-TRAVEL", "ts-travel", "ts-travel pod OOMKilled after a memory leak"),
        ("INC-BASIC", "ts-basic", "ts-basic certificate expired on the config endpoint"),
    ):
        memory.add(
            IncidentRecord(id=rid, title=title, service=service, root_cause=title, cause=rid)
        )
    title = "ts-order and ts-travel return 500: calls to ts-route rejected with an exception"
    memory.add(
        IncidentRecord(
            id="INC-ROUTE",
            title=title,
            service="ts-route",
            root_cause="exception in ts-route",
            cause="route-exception",
        )
    )
    matches = memory.similar(
        service="ts-order",
        title=title,
        symptoms=[],
        templates=[],
        suspects={"ts-order": 1.0, "ts-travel": 0.9, "ts-basic": 0.8},
    )
    # the combined score still leads with a suspect's incident; the route incident is listed
    # second (the protocol's weights count the text more than the suspects' place: issue 4's,
    # scaled; with the equal weights shipped before it needed the text's place to be listed)
    assert matches[0].record.id == "INC-ORDER"
    assert [m.record.id for m in matches][1] == "INC-ROUTE"
    assert [m.similarity for m in matches] == sorted((m.similarity for m in matches), reverse=True)
    # the evaluation's order over the whole memory is the same
    ranked = memory.similar(
        service="ts-order",
        title=title,
        symptoms=[],
        templates=[],
        suspects={"ts-order": 1.0, "ts-travel": 0.9, "ts-basic": 0.8},
        ranked=True,
    )
    assert [m.record.id for m in ranked][:2] == ["INC-ORDER", "INC-ROUTE"]


def test_the_same_fault_on_other_services_is_listed_for_the_mix_of_evidence_around_it(
    memory: IncidentMemory,
) -> None:
    # a silent delay slows ts-order and ts-travel and thins the flow through ts-basic; the
    # ranking blames the callers. The past delay of the same kind hit other services (ts-seat,
    # ts-config, ts-station) and was worded otherwise; the suspects' own past incidents were
    # errors and saturation. What looks alike is the mix of evidence around the fault, whichever
    # services: the protocol's choice weighs it, and the match is among the three listed (with
    # the equal weights shipped before it was sixth, below the suspects' unrelated incidents)
    for rid, service, title, evidence in (
        (
            "INC-ORDER",
            "ts-order",
            "ts-order database connection pool exhausted",
            {"ts-order errors": 2.0, "ts-order saturation": 1.0},
        ),
        (
            "INC-TRAVEL",
            "ts-travel",
            "ts-travel pod OOMKilled after a memory leak",
            {"ts-travel saturation": 2.0, "ts-travel errors": 0.5},
        ),
        (
            "INC-BASIC",
            "ts-basic",
            "ts-basic certificate expired on the config endpoint",
            {"ts-basic errors": 3.0},
        ),
        (
            "INC-SEAT",
            "ts-seat",
            "rollout of a new station index paused",
            {"ts-seat delay": 1.5, "ts-config delay": 1.2, "ts-station flow": 0.4},
        ),
    ):
        memory.add(
            IncidentRecord(
                id=rid, title=title, service=service, evidence=evidence, root_cause=title, cause=rid
            )
        )
    matches = memory.similar(
        service="ts-order",
        title="ts-order and ts-travel slow: calls time out",
        symptoms=[],
        templates=[],
        suspects={"ts-order": 1.0, "ts-travel": 0.9, "ts-basic": 0.8},
        evidence={"ts-order delay": 1.4, "ts-travel delay": 1.1, "ts-basic flow": 0.5},
    )
    seat = next(m for m in matches if m.record.id == "INC-SEAT")
    assert "same mix of evidence around it" in seat.explanation
    assert "listed for" not in seat.explanation  # by its own score, not a slot


def test_an_incident_whose_neighbourhood_looked_alike_is_listed_when_text_and_suspects_miss(
    memory: IncidentMemory,
) -> None:
    # a silent cause again: ts-route delays its callers and logs nothing new, the ranking blames
    # ts-order and ts-travel. The past ts-route delay was worded otherwise and blamed ts-route
    # itself, but the services around it then showed what they show now: slower hand-offs on
    # ts-order and ts-travel, less traffic on ts-basic
    around_now = {"ts-order delay": 1.4, "ts-travel delay": 1.1, "ts-basic flow": 0.5}
    for rid, service, title, around in (
        ("INC-ORDER", "ts-order", "ts-order database connection pool exhausted", {}),
        ("INC-TRAVEL", "ts-travel", "ts-travel pod OOMKilled after a memory leak", {}),
        (
            "INC-CLOCK",
            "ts-order",
            "ts-order and ts-travel slow: clock skew on the order nodes",
            {"ts-order errors": 2.0},
        ),
        (
            "INC-ROUTE",
            "ts-route",
            "rollout of a new station index paused",
            {"ts-route delay": 3.0, "ts-order delay": 1.5, "ts-travel delay": 1.0},
        ),
    ):
        memory.add(
            IncidentRecord(
                id=rid,
                title=title,
                service=service,
                evidence={f"{service} errors": 2.0},
                neighbourhood=around,
                root_cause=title,
                cause=rid,
            )
        )
    query = {
        "service": "ts-order",
        "title": "ts-order and ts-travel slow: calls time out",
        "symptoms": [],
        "templates": [],
        "suspects": {"ts-order": 1.0, "ts-travel": 0.9},
        "evidence": {"ts-order delay": 1.4, "ts-travel delay": 1.1},
    }
    without = memory.similar(**query)  # type: ignore[arg-type]
    assert "INC-ROUTE" not in [m.record.id for m in without]
    matches = memory.similar(**query, neighbourhood=around_now)  # type: ignore[arg-type]
    route = next(m for m in matches if m.record.id == "INC-ROUTE")
    assert "listed for the evidence around it" in route.explanation
    assert matches[0].record.id != "INC-ROUTE"


def test_an_incident_whose_neighbourhood_looked_alike_is_found_among_many_described_alike(
    memory: IncidentMemory, tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    # the silent ts-route delay again, in a memory that has since filled with 24 incidents
    # described like this one (ts-order slow, timeouts) on services the ranking does not blame:
    # the past ts-route delay is not among the text's nearest, yet its neighbourhood showed what
    # it shows now, so it must still be compared and listed. The incidents were remembered by
    # another replica (the same store) after this one had already searched it
    around_now = {"ts-order delay": 1.4, "ts-travel delay": 1.1, "ts-basic flow": 0.5}
    query = {
        "service": "ts-order",
        "title": "ts-order and ts-travel slow: calls time out",
        "symptoms": [],
        "templates": [],
        "suspects": {"ts-order": 1.0, "ts-travel": 0.9},
        "evidence": {"ts-order delay": 1.4, "ts-travel delay": 1.1},
        "neighbourhood": around_now,
    }
    assert "INC-ROUTE" not in [m.record.id for m in memory.similar(**query)]  # type: ignore[arg-type]
    other = IncidentMemory(open_chroma(tmp_path / "chroma"), embedder)
    for k in range(24):
        other.add(
            IncidentRecord(
                id=f"INC-SLOW-{k}",
                title=f"ts-order and ts-travel slow: calls time out, case {k}",
                service=f"ts-other-{k}",
                evidence={f"ts-other-{k} errors": 1.0},
                neighbourhood={f"ts-other-{k} errors": 1.0, "ts-station saturation": 0.3},
                root_cause="slow calls",
                cause=f"slow-{k}",
            )
        )
    other.add(
        IncidentRecord(
            id="INC-ROUTE",
            title="rollout of a new station index paused",
            service="ts-route",
            evidence={"ts-route errors": 2.0},
            neighbourhood={"ts-route delay": 3.0, "ts-order delay": 1.5, "ts-travel delay": 1.0},
            root_cause="station index",
            cause="index",
        )
    )
    matches = memory.similar(**query)  # type: ignore[arg-type]
    route = next(m for m in matches if m.record.id == "INC-ROUTE")
    assert "listed for the evidence around it" in route.explanation
    assert route.embedding_similarity < max(m.embedding_similarity for m in matches)
