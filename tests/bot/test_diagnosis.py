"""Hypotheses: a load driver that moved first outranks its consequences; memory alone cannot
outvote a metric that was measured and found normal."""

from __future__ import annotations

from bot.diagnosis.hypotheses import Evidence, add_evidence, clear_cause, diagnose
from bot.diagnosis.signals import Glossary
from detectors import Direction, Finding
from knowledge.records import IncidentRecord, Remediation, SimilarIncident
from knowledge.templates import TemplateStat


def finding(metric: str, start: float, magnitude: float = 3.0, confidence: float = 0.95) -> Finding:
    return Finding(
        metric=metric,
        labels={},
        start=start,
        end=start + 600,
        direction=Direction.UP,
        baseline=100.0,
        observed=100.0 * magnitude,
        magnitude=magnitude,
        confidence=confidence,
        detector="test",
    )


def match(cause: str, similarity: float, outcome: str = "resolved") -> SimilarIncident:
    record = IncidentRecord(
        id=f"PAST-{cause}",
        title=f"past {cause}",
        service="recommender",
        root_cause=cause,
        cause=cause,
        remediation=[Remediation(tool="scale", params={"factor": 2})],
        outcome=outcome,  # type: ignore[arg-type]
    )
    return SimilarIncident(
        record=record,
        similarity=similarity,
        embedding_similarity=similarity,
        shared_templates=[],
        explanation="",
    )


CATALOG = Glossary()
MEASURED = {"latency_p95_ms", "request_payload_bytes", "cpu_utilization_pct", "request_rate"}


def test_driver_outranks_resources_that_moved_with_it() -> None:
    findings = [
        finding("latency_p95_ms", 1000),
        finding("request_payload_bytes", 1000),
        finding("cpu_utilization_pct", 1000),
    ]
    ranked = diagnose(findings, [], [], CATALOG, measured_metrics=MEASURED)
    assert [h.cause for h in ranked] == ["input-size-surge", "cpu-saturation"]
    assert ranked[0].score > ranked[1].score
    assert any(e.kind == "metric" for e in ranked[0].evidence)


def test_earlier_change_gets_credit_for_preceding_the_symptom() -> None:
    findings = [
        finding("latency_p95_ms", 2000),
        finding("cpu_utilization_pct", 1000),
        finding("request_rate", 1900, confidence=0.5),
    ]
    ranked = diagnose(findings, [], [], CATALOG, measured_metrics=MEASURED)
    cpu = next(h for h in ranked if h.cause == "cpu-saturation")
    assert "before the symptoms" in cpu.evidence[0].text and "earliest" in cpu.evidence[0].text


def test_memory_only_cause_contradicted_by_a_normal_metric_is_marked_down() -> None:
    findings = [finding("latency_p95_ms", 1000), finding("request_payload_bytes", 1000)]
    ranked = diagnose(
        findings, [], [match("traffic-surge", 0.9)], CATALOG, measured_metrics=MEASURED
    )
    traffic = next(h for h in ranked if h.cause == "traffic-surge")
    assert ranked[0].cause == "input-size-surge"
    assert any(e.kind == "against" and "request rate is normal" in e.text for e in traffic.evidence)
    assert traffic.score < 0.2


def test_memory_below_threshold_is_ignored_and_no_evidence_means_no_hypothesis() -> None:
    ranked = diagnose(
        [finding("latency_p95_ms", 1000)],
        [],
        [match("bad-rollout", 0.2)],
        CATALOG,
        measured_metrics=MEASURED,
    )
    assert ranked == []


def test_similar_incidents_corroborate_the_same_cause() -> None:
    findings = [
        finding("latency_p95_ms", 1000),
        finding("request_payload_bytes", 1000, confidence=0.6),
    ]
    alone = diagnose(findings, [], [], CATALOG, measured_metrics=MEASURED)[0].score
    backed = diagnose(
        findings, [], [match("input-size-surge", 0.9)], CATALOG, measured_metrics=MEASURED
    )[0].score
    assert backed > alone


def stat(template: str, level: str = "ERROR", baseline: int = 0) -> TemplateStat:
    return TemplateStat(template, level, baseline, 30, baseline / 60, 6.0, template)


def test_log_messages_that_name_their_cause_are_evidence_for_it() -> None:
    templates = [
        stat("Payment call failed: x509: certificate has expired or is not yet valid"),
        stat("Timed out after <NUM> ms waiting for a scoring worker (queue depth <NUM>)"),
    ]
    ranked = diagnose(
        [finding("error_ratio", 1000)], templates, [], CATALOG, measured_metrics=MEASURED
    )
    assert [h.cause for h in ranked] == ["cert-expiry"]  # a queue wait is not a dependency timeout
    assert ranked[0].score == 0.7 and ranked[0].evidence[0].kind == "logs"


def test_weak_evidence_is_no_clear_cause() -> None:
    weak = diagnose(
        [finding("cpu_utilization_pct", 1000, confidence=0.3)],
        [],
        [],
        CATALOG,
        measured_metrics=MEASURED,
    )
    assert weak and clear_cause(weak) is None
    strong = diagnose(
        [finding("latency_p95_ms", 1000), finding("request_rate", 1000)],
        [],
        [],
        CATALOG,
        measured_metrics=MEASURED,
    )
    assert clear_cause(strong) is strong[0]


def test_added_evidence_reranks_and_the_strongest_piece_sums_up() -> None:
    ranked = diagnose(
        [finding("latency_p95_ms", 1000), finding("cpu_utilization_pct", 1000, confidence=0.5)],
        [],
        [],
        CATALOG,
        measured_metrics=MEASURED,
    )
    change = Evidence("change", "rollout of recommender rev 8 at 10:02 UTC", 0.9)
    reranked = add_evidence(
        ranked, [("bad-rollout", change, change.text)], CATALOG, measured_metrics=MEASURED
    )
    assert reranked[0].cause == "bad-rollout" and reranked[0].score == 0.9
    assert reranked[0].text == "Bad rollout: rollout of recommender rev 8 at 10:02 UTC"
