"""Two clusters in one configuration (two simulated shops, `east` and `west`): each alert is
investigated and acted on in its own cluster, an approval can never reach the other, cooldowns
and policy rules are per cluster, the audit names the cluster, and an alert naming a cluster
Medic does not know is refused - never handed to the default."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from bot.alerts import parse_alerts
from bot.config import Settings, load_settings
from bot.demo import scenario_alert
from bot.errors import InputError
from bot.flow import IncidentFlow
from bot.wiring import Wiring
from bot.wiring.clusters import ClusterFlows
from knowledge.embeddings import MiniLMEmbedding
from tests.services.alertmanager import running_alertmanager
from tests.services.log_stores import FakeLoki, serving
from tests.services.redis import redis_url  # noqa: F401  (fixture)
from tools.actions import Principal
from tools.audit import AuditLog
from tools.clock import VirtualClock
from tools.proposals import Proposal, ProposalStatus
from tools.sim import SCENARIOS, SimulatedCluster

POLICY = Path(__file__).parents[2] / "tools" / "default_policy.yaml"
SCENARIO = SCENARIOS["input-size-surge"]


def write_policy(tmp_path: Path, **changes: Any) -> Path:
    """The shipped policy with approver U1 everywhere, and ``changes`` on top."""
    policy = yaml.safe_load(POLICY.read_text())
    policy["approvers"].append({"users": ["U1"]})
    policy.update(changes)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def two_clusters(tmp_path: Path, policy: Path | None = None, **west: Any) -> Settings:
    """east and west, both simulated; ``west`` adds to west's entry (its log store, Redis...)."""
    return load_settings(
        data_dir=tmp_path / "data",
        policy=policy or write_policy(tmp_path),
        clusters={"east": {"kind": "sim"}, "west": {"kind": "sim", **west}},
        default_cluster="east",
    )


class Clusters:
    """The routed flow (what front ends hold) and the two simulated shops behind it."""

    def __init__(self, settings: Settings, clock: VirtualClock, embedder: MiniLMEmbedding):
        self.wiring = Wiring(settings, embedder=embedder)
        self.flow = self.wiring.flow(clock)
        self.routes: ClusterFlows = self.wiring.cluster_flows(clock)

    def sim(self, name: str) -> SimulatedCluster:
        self.routes.flow(name)
        sim = self.routes.sim(name)
        assert sim is not None
        return sim

    def alert(self, cluster: str | None) -> dict[str, Any]:
        payload = scenario_alert(SCENARIO, self.sim(cluster or "east").anchor)
        for alert in payload["alerts"]:
            if cluster is not None:
                alert["labels"]["cluster"] = cluster
        return payload

    def proposals(self, cluster: str | None) -> dict[str, Proposal]:
        incident, _ = self.flow.intake(parse_alerts(self.alert(cluster)))[0]
        investigation = self.flow.investigate(incident)
        return {p.action.tool: p for p in self.flow.propose(incident, investigation)}

    def replicas(self, cluster: str) -> int:
        return self.sim(cluster).get_deployment("shop", "recommender").replicas


@pytest.fixture
def clusters(tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding) -> Iterator[Clusters]:
    made = Clusters(two_clusters(tmp_path), clock, embedder)
    yield made
    made.wiring.close()


def test_approving_a_proposal_acts_on_its_own_cluster_only(clusters: Clusters) -> None:
    before = clusters.replicas("east")
    proposals = clusters.proposals("west")
    scale = proposals["scale"]
    assert {p.cluster for p in proposals.values()} == {"west"}

    outcome = clusters.flow.decide(scale.id, "U1", approve=True, digest=scale.digest)

    assert outcome is not None and outcome.result.ok, outcome
    assert clusters.replicas("west") == scale.action.params["replicas"]
    assert clusters.replicas("east") == before  # the other cluster saw no write


def test_an_alert_without_the_label_belongs_to_the_default_cluster(clusters: Clusters) -> None:
    proposals = clusters.proposals(None)
    assert {p.cluster for p in proposals.values()} == {"east"}
    assert clusters.routes.built() == ["east"]  # west is not even built


def test_an_approval_replayed_against_the_other_cluster_is_refused(clusters: Clusters) -> None:
    west = clusters.proposals("west")["scale"]
    east_workflow = clusters.routes.flow("east").workflow

    forged = east_workflow.approve(west.id, "U1", west.digest)

    assert not forged.result.ok
    assert forged.result.details["rule"] == "cluster"
    assert "is for cluster west, not east" in forged.result.summary
    assert clusters.flow.proposal(west.id).status is ProposalStatus.PROPOSED  # type: ignore[union-attr]
    # Approved where it belongs, then handed to the other cluster's executor: not run there.
    clusters.routes.flow("west").proposals.approve(
        west.id, "U1", west.digest, east_workflow.clock.now()
    )
    ran = east_workflow.executor.execute(west.id)
    assert not ran.ok and "not executed here" in ran.summary
    assert (
        clusters.replicas("west")
        == clusters.sim("east").get_deployment("shop", "recommender").replicas
    )
    assert clusters.flow.proposal(west.id).status is ProposalStatus.APPROVED  # type: ignore[union-attr]


def test_a_cooldown_in_one_cluster_does_not_block_the_other(clusters: Clusters) -> None:
    west = clusters.proposals("west")["scale"]
    assert clusters.flow.decide(west.id, "U1", approve=True, digest=west.digest).result.ok  # type: ignore[union-attr]

    east = clusters.proposals("east")["scale"]
    # the same Alertmanager fingerprint from the other cluster is another incident
    assert east.incident_id != west.incident_id
    assert east.status is ProposalStatus.PROPOSED, east.outcome
    assert clusters.flow.decide(east.id, "U1", approve=True, digest=east.digest).result.ok  # type: ignore[union-attr]

    incident = clusters.flow.incident(west.incident_id)
    assert incident is not None
    again = clusters.flow.propose(incident, clusters.flow.investigate(incident))
    scale_again = next(p for p in again if p.action.tool == "scale")
    assert scale_again.status is ProposalStatus.REFUSED
    assert scale_again.outcome.startswith("cooldown:")


def test_audit_entries_name_the_cluster(clusters: Clusters) -> None:
    west = clusters.proposals("west")["scale"]
    clusters.flow.decide(west.id, "U1", approve=True, digest=west.digest)
    clusters.proposals("east")

    log = AuditLog(clusters.wiring.engine)
    entries = log.entries()
    by_proposal = {e.proposal_id: e.cluster for e in entries if e.proposal_id}
    assert by_proposal[west.id] == "west"
    assert {e.event for e in entries if e.cluster == "west"} >= {"proposed", "approved", "executed"}
    assert any(e.cluster == "east" for e in entries)
    assert all(e.cluster in ("east", "west") for e in entries)
    assert log.verify().ok


@pytest.mark.parametrize(
    "label",
    ["north", "<!channel> *bold*", "x" * 5000, "EAST", "east ", ""],
)
def test_an_unknown_cluster_label_is_refused_not_sent_to_the_default(
    clusters: Clusters, label: str
) -> None:
    payload = clusters.alert("east")
    payload["alerts"][0]["labels"]["cluster"] = label
    group = parse_alerts(payload)
    if label == "":  # an empty label is no label: the default cluster, as Prometheus reads it
        (incident, _), *_ = clusters.flow.intake(group)
        assert clusters.flow.proposals_of(incident.id) == []
        return
    with pytest.raises(InputError) as refused:
        clusters.flow.intake(group)
    text = str(refused.value)
    assert "not in the clusters map (known: east, west)" in text
    assert "Medic did not investigate it and proposes nothing there" in text
    assert len(text) < 600  # a 5,000-character label is shown cut
    assert clusters.flow.open_incidents() == []
    assert clusters.routes.built() == ["east"]


def test_policy_rules_may_name_clusters(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    policy = yaml.safe_load(POLICY.read_text())
    policy["environments"]["production"]["clusters"] = ["west"]
    policy["environments"]["staging"]["clusters"] = ["west"]
    policy["approvers"].append({"users": ["U2"], "clusters": ["w*"]})
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    made = Clusters(two_clusters(tmp_path, path), clock, embedder)
    try:
        west = made.proposals("west")["scale"]
        assert made.flow.decide(west.id, "U2", approve=True, digest=west.digest).result.ok  # type: ignore[union-attr]

        east = made.proposals("east")
        assert {p.status for p in east.values()} == {ProposalStatus.REFUSED}
        assert "environment production holds in clusters west, not in east" in east["scale"].outcome
    finally:
        made.wiring.close()


def test_an_approver_of_one_cluster_may_not_approve_in_the_other(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    policy = yaml.safe_load(POLICY.read_text())
    policy["approvers"].append({"users": ["U2"], "clusters": ["west"]})
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    made = Clusters(two_clusters(tmp_path, path), clock, embedder)
    try:
        east = made.proposals("east")["scale"]
        refused = made.flow.decide(east.id, "U2", approve=True, digest=east.digest)
        assert refused is not None and not refused.result.ok
        assert "you (U2) may not approve scale" in refused.result.summary
        assert made.flow.proposal(east.id).status is ProposalStatus.PROPOSED  # type: ignore[union-attr]
    finally:
        made.wiring.close()


def test_a_proposal_of_a_cluster_removed_from_the_map_is_refused(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    first = Clusters(two_clusters(tmp_path), clock, embedder)
    west = first.proposals("west")["scale"]
    first.wiring.close()
    settings = load_settings(
        data_dir=tmp_path / "data",
        policy=write_policy(tmp_path),
        clusters={"east": {"kind": "sim"}},
        default_cluster="east",
    )
    again = Clusters(settings, clock, embedder)
    try:
        before = again.replicas("east")
        outcome = again.flow.decide(west.id, "U1", approve=True, digest=west.digest)
        assert outcome is not None and not outcome.result.ok
        assert "is for cluster west, not east" in outcome.result.summary
        assert again.replicas("east") == before
    finally:
        again.wiring.close()


def test_a_manual_investigation_names_its_cluster(clusters: Clusters) -> None:
    flow: IncidentFlow = clusters.flow
    assert flow.cluster_labels("west") == {"cluster": "west"}
    assert flow.cluster_labels(None) == {}
    with pytest.raises(InputError, match="no cluster named 'north'"):
        flow.cluster_labels("north")
    assert flow.namespace_in("west") == "shop"


def test_two_first_alerts_of_a_cluster_at_once_build_it_once(clusters: Clusters) -> None:
    start = threading.Barrier(8)
    built: list[IncidentFlow] = []

    def first_alert() -> None:
        start.wait()
        built.append(clusters.routes.flow_for({"cluster": "west"}))

    threads = [threading.Thread(target=first_alert) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(built) == 8 and len({id(f) for f in built}) == 1
    assert clusters.routes.built() == ["east", "west"]


def test_an_interrupted_approval_is_carried_out_by_its_own_cluster(
    clusters: Clusters, clock: VirtualClock
) -> None:
    east_before = clusters.replicas("east")
    west = clusters.proposals("west")["scale"]
    # Approved, then the process stopped before running it.
    clusters.routes.flow("west").proposals.approve(west.id, "U1", west.digest, clock.now())
    clock.sleep(5)

    settled = clusters.flow.settle_interrupted(after_seconds=1)

    assert [s.proposal.id for s in settled] == [west.id] and settled[0].ran_now
    assert clusters.replicas("west") == west.action.params["replicas"]
    assert clusters.replicas("east") == east_before


@pytest.mark.slow
def test_each_cluster_reads_its_own_log_store_and_purges_its_own_redis(
    tmp_path: Path,
    clock: VirtualClock,
    embedder: MiniLMEmbedding,
    redis_url: str,  # noqa: F811  (fixture)
) -> None:
    """west keeps its logs in Loki and its cache in Redis; east has neither: an alert of east
    never asks west's Loki, one of west does, and a purge in west empties west's Redis only."""
    loki = FakeLoki()
    with serving(loki) as loki_url:
        settings = two_clusters(
            tmp_path, logs={"source": "loki", "url": loki_url}, redis_url=redis_url
        )
        made = Clusters(settings, clock, embedder)
        try:
            made.proposals("east")
            assert loki.requests == []  # east reads its own pods' logs
            made.proposals("west")
            asked = {r.get("query") for r in loki.requests}
            assert '{namespace="shop", app="recommender"}' in asked, asked
            store = redis.Redis.from_url(redis_url)
            store.set("reco:1", "x")
            made.routes.flow("east").backends.cache.purge("reco:*")
            assert store.exists("reco:1") == 1  # east's purge stays in east
            made.routes.flow("west").backends.cache.purge("reco:*")
            assert store.exists("reco:1") == 0
        finally:
            made.wiring.close()


@pytest.mark.slow
def test_a_silence_goes_to_its_own_clusters_alertmanager_only(
    tmp_path: Path, clock: VirtualClock, embedder: MiniLMEmbedding
) -> None:
    """west has its own Alertmanager (a real one); east has none configured: a silence asked for
    on west's incident is created in west's Alertmanager, one on east's never reaches it."""
    with running_alertmanager(tmp_path) as alertmanager:
        settings = two_clusters(tmp_path, alertmanager_url=alertmanager.url)
        made = Clusters(settings, clock, embedder)
        try:
            silences: list[dict[str, Any]] = []

            def in_alertmanager() -> list[dict[str, Any]]:
                answer = httpx.get(f"{alertmanager.url}/api/v2/silences", timeout=10)
                return list(answer.json())  # pending: the test's clock is ahead of the server's

            for cluster in ("east", "west"):
                incident, _ = made.flow.intake(parse_alerts(made.alert(cluster)))[0]
                result = made.flow.silence(
                    incident, 600, Principal("U1"), source="test", where="a test"
                )
                assert result.ok, result
                silences.append({"cluster": cluster, "incident": incident.id})
                if cluster == "east":
                    assert in_alertmanager() == []  # east's silence stayed in east
                    assert len(made.sim("east").silences) == 1
            created = in_alertmanager()
            assert len(created) == 1, created
            assert silences[1]["incident"] in created[0]["comment"]
            assert made.sim("west").silences == []  # west's went to its Alertmanager
        finally:
            made.wiring.close()
