"""What the memory keeps of an incident Medic handled (``bot.diagnosis.record``)."""

from __future__ import annotations

from bot.diagnosis.origins import Origins
from bot.diagnosis.record import incident_record
from bot.diagnosis.verification import Verification
from knowledge.matching import PROFILE_WIDTH
from knowledge.origins import Origin
from knowledge.ranking import RankedCause
from tests.bot.test_conversation import INCIDENT, investigation


def test_the_record_keeps_which_evidence_implicated_which_service_around_it() -> None:
    # the next incident is matched by what this fault did to the services around it (the
    # evidence profile), as ``medic eval rca`` measures it, not only by its alerting service
    origins = Origins(
        [
            Origin(RankedCause("checkout", 3.0, [], 100.0, {"delay": 2.0, "errors": 1.0})),
            Origin(RankedCause("frontend", 1.0, [], 110.0, {"latency": 1.0})),
        ],
        {},
        frozenset({"checkout", "frontend"}),
    )
    record = incident_record(INCIDENT, investigation(origins=origins), [], Verification(True, []))
    assert record.evidence == {
        "checkout delay": 2.0,
        "checkout errors": 1.0,
        "frontend latency": 1.0,
    }


def test_the_record_keeps_the_evidence_of_every_service_the_ranking_weighed() -> None:
    # a silent cause leaves its leaders as victims; what stays alike between two such incidents
    # is the whole neighbourhood, so the record keeps every ranked service, not only the leaders
    ranked = [
        Origin(RankedCause(f"svc-{k}", 10.0 - k, [], 100.0 + k, {"delay": 1.0 + k}))
        for k in range(9)
    ]
    origins = Origins(ranked, {}, frozenset(o.service for o in ranked))
    record = incident_record(INCIDENT, investigation(origins=origins), [], Verification(True, []))
    assert len(record.evidence) == PROFILE_WIDTH  # the leaders' profile, as before
    assert record.neighbourhood == {f"svc-{k} delay": 1.0 + k for k in range(9)}
