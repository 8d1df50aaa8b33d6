from __future__ import annotations

from pathlib import Path

import pytest

from bot.diagnosis import Hypothesis
from bot.errors import ConfigError
from bot.planner import Planner, load_runbooks
from bot.signals import SignalCatalog
from knowledge.records import IncidentRecord, Remediation, SimilarIncident
from tests.bot.test_diagnosis import finding
from tools.sim import SimulatedCluster


def similar(id_: str, similarity: float, outcome: str, *remedies: Remediation) -> SimilarIncident:
    record = IncidentRecord(
        id=id_,
        title=id_,
        service="recommender",
        root_cause="x",
        cause="x",
        remediation=list(remedies),
        outcome=outcome,
    )  # type: ignore[arg-type]
    return SimilarIncident(
        record=record,
        similarity=similarity,
        embedding_similarity=similarity,
        shared_templates=[],
        explanation="",
    )


def plan(
    sim: SimulatedCluster, findings: list, matches: list, causes: tuple[str, ...] = ()
) -> list:  # type: ignore[type-arg]
    planner = Planner(load_runbooks(), sim, SignalCatalog())
    return planner.plan(
        namespace="shop",
        service="recommender",
        labels={},
        findings=findings,
        hypotheses=[Hypothesis(cause=c, title=c, score=0.9) for c in causes],
        similar=matches,
    )


def test_runbooks_turn_findings_into_concrete_actions(sim: SimulatedCluster) -> None:
    planned = plan(
        sim,
        [
            finding("latency_p95_ms", 0),
            finding("request_payload_bytes", 0),
            finding("cache_memory_bytes", 0),
        ],
        [],
    )
    actions = {(p.action.tool, tuple(sorted(p.action.params.items()))) for p in planned}
    assert actions == {
        ("scale", (("replicas", 6),)),
        ("purge_cache", (("pattern", "recommender:*"),)),
    }
    assert all(p.sources[0].startswith("runbook:") for p in planned)


def test_memory_merges_with_runbooks_and_failed_fixes_count_against_themselves(
    sim: SimulatedCluster,
) -> None:
    matches = [
        similar("PAST-A", 0.9, "resolved", Remediation(tool="scale", params={"factor": 2})),
        similar("PAST-B", 0.8, "not_resolved", Remediation(tool="restart")),
        similar("PAST-C", 0.2, "resolved", Remediation(tool="rollback")),  # too dissimilar
    ]
    planned = plan(sim, [finding("latency_p95_ms", 0), finding("request_rate", 0)], matches)
    assert [p.action.tool for p in planned] == ["scale"]
    assert planned[0].sources == ["runbook:scale-out-on-load", "memory:PAST-A"]
    assert planned[0].score > 0.6


def test_cause_conditions_select_rollback(sim: SimulatedCluster) -> None:
    planned = plan(sim, [finding("error_ratio", 0)], [], causes=("bad-rollout",))
    assert [p.action.tool for p in planned] == ["rollback"]


def test_team_runbooks_are_loaded_and_bad_ones_reported(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(
        "- name: page-restart\n  when: {labels: {severity: page}}\n  propose: [{tool: restart}]\n"
    )
    assert "page-restart" in [r.name for r in load_runbooks(tmp_path)]
    (tmp_path / "broken.yaml").write_text("- name: x\n  propose: []\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_runbooks(tmp_path)
