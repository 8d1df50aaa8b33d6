"""Two clusters behind one bot, as the alert channel sees them: an alert from each cluster
becomes its own thread with proposals that name the cluster; approving the west one scales the
west shop only; an alert naming a cluster Medic does not know gets one note and no proposals;
`/medic investigate ... cluster west` investigates there."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import load_settings
from bot.demo import scenario_alert
from bot.slack.service import MedicService
from bot.wiring import Wiring
from bot.wiring.clusters import ClusterFlows
from knowledge.embeddings import MiniLMEmbedding
from tests.bot.receivers import payloads
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import ALERTS, APPROVER, Medic, serve_in_thread, write_config
from tests.bot.slack.markup_check import unescaped
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

GRAFANA_TOKEN = "grafana-token-1"


class TwoClusters(Medic):
    routes: ClusterFlows

    def sim_of(self, name: str) -> SimulatedCluster:
        self.routes.flow(name)
        sim = self.routes.sim(name)
        assert sim is not None
        return sim

    def cluster_alert(self, cluster: str | None, key: str) -> dict[str, Any]:
        payload = scenario_alert(SCENARIOS["input-size-surge"], self.sim.anchor)
        payload["groupKey"] = key
        if cluster is not None:
            for alert in payload["alerts"]:
                alert["labels"]["cluster"] = cluster
            payload["commonLabels"]["cluster"] = cluster
        return payload


@pytest.fixture
def two_clusters(
    medic_env: Path,
    fake_slack: FakeSlack,
    clock: VirtualClock,
    embedder: MiniLMEmbedding,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TwoClusters]:
    monkeypatch.delenv("MEDIC_CLUSTER")
    write_config(
        medic_env,
        clusters={"east": {"kind": "sim"}, "west": {"kind": "sim"}},
        default_cluster="east",
        receivers={"grafana": {"enabled": True, "token": GRAFANA_TOKEN}},
    )
    wiring = Wiring(load_settings(), embedder=embedder)
    service = MedicService(wiring, wiring.flow(clock))
    service.start()
    server, thread, url = serve_in_thread(service.asgi)
    http = httpx.Client(timeout=30)
    routes = wiring.cluster_flows(clock)
    east = routes.sim("east")
    assert east is not None
    bot = TwoClusters(service, url, fake_slack, east, http)
    bot.routes = routes
    yield bot
    http.close()
    server.should_exit = True
    thread.join(timeout=10)
    service.stop()


def test_each_cluster_gets_its_thread_and_approving_acts_on_that_cluster_only(
    two_clusters: TwoClusters,
) -> None:
    bot = two_clusters
    assert bot.alert(bot.cluster_alert(None, "g-east")).status_code == 200
    bot.settle()
    assert bot.alert(bot.cluster_alert("west", "g-west")).status_code == 200
    bot.settle()

    east_root, west_root = bot.slack.roots(ALERTS)
    west = bot.diagnosis(west_root)
    assert "in cluster west:" in west.all_text() and "in cluster east" not in west.all_text()
    assert "in cluster east:" in bot.diagnosis(east_root).all_text()

    scale_out = west.button("medic_approve", "scale shop/recommender replicas=6")
    assert bot.click(west, scale_out, APPROVER).status_code == 200
    bot.settle()

    assert "scaled deployment shop/recommender: 3 -> 6 replicas" in west.all_text()
    assert bot.sim_of("west").get_deployment("shop", "recommender").replicas == 6
    assert bot.sim_of("east").get_deployment("shop", "recommender").replicas == 3


def test_an_alert_from_an_unknown_cluster_is_one_note_and_no_proposals(
    two_clusters: TwoClusters,
) -> None:
    bot = two_clusters
    payload = bot.cluster_alert("<!channel> north", "g-north")
    assert bot.alert(payload).status_code == 200
    bot.settle()

    [root] = bot.slack.roots(ALERTS)
    texts = [m.all_text() for m in bot.slack.thread(root.ts)]
    notes = [t for t in texts if "not in the clusters map" in t]
    assert len(notes) == 1
    assert "names cluster '<!channel> north'" in notes[0]  # as a reader sees it: text
    assert unescaped(bot.slack, [APPROVER]) == []  # sent escaped, never as markup
    assert not any("Medic investigated" in t for t in texts)
    assert bot.routes.built() == ["east"]
    assert bot.sim.get_deployment("shop", "recommender").replicas == 3


def test_slash_investigate_names_the_cluster(two_clusters: TwoClusters) -> None:
    bot = two_clusters
    assert bot.slash("investigate recommender cluster west").status_code == 200
    bot.settle()
    [root] = bot.slack.roots(ALERTS)
    assert "in cluster west:" in bot.diagnosis(root).all_text()

    assert bot.slash("investigate recommender cluster north").status_code == 200
    bot.settle()
    refusal = "no cluster named 'north' in the clusters map (known: east, west)"
    assert any(refusal in t for t in bot.slack.ephemeral_texts())
    assert len(bot.slack.roots(ALERTS)) == 1  # nothing started for it


def test_one_notification_with_both_clusters_alerts_is_a_thread_per_cluster(
    two_clusters: TwoClusters,
) -> None:
    bot = two_clusters
    payload = bot.cluster_alert(None, "g-both")
    west = copy.deepcopy(payload["alerts"][0])
    west["labels"]["cluster"] = "west"  # same fingerprint, other cluster
    payload["alerts"].append(west)
    assert bot.alert(payload).status_code == 200
    bot.settle()

    roots = bot.slack.roots(ALERTS)
    assert len(roots) == 2
    texts = [bot.diagnosis(root).all_text() for root in roots]
    assert sum("in cluster east:" in t for t in texts) == 1
    assert sum("in cluster west:" in t for t in texts) == 1

    # Resolved, the same split finds each cluster's incident and withdraws its proposals.
    for alert in payload["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = alert["startsAt"]
    payload["status"] = "resolved"
    assert bot.alert(payload).status_code == 200
    bot.settle()
    assert bot.service.threads.flow.open_incidents() == []


def test_a_grafana_notification_of_two_clusters_and_an_unknown_one_loses_neither(
    two_clusters: TwoClusters,
) -> None:
    """Grafana groups by alertname unless told otherwise: one notification can carry the same
    rule firing in several clusters. Each known cluster's alert is investigated there, and the
    alert naming a cluster Medic does not know is one note - it does not cost the others."""
    bot = two_clusters
    starts = bot.sim.anchor + bot.sim.scenario.alert_offset
    payload = payloads.grafana(starts)
    east = payload["alerts"][0]
    for cluster in ("west", "north"):
        other = copy.deepcopy(east)
        other["labels"]["cluster"] = cluster  # the same rule's fingerprint, another cluster
        payload["alerts"].append(other)
    east["labels"]["cluster"] = "east"
    answer = bot.http.post(
        f"{bot.url}/webhook/grafana",
        json=payload,
        headers={"Authorization": f"Bearer {GRAFANA_TOKEN}"},
    )
    assert answer.status_code == 200 and answer.json()["alerts"] == 3, answer.text
    bot.settle()

    roots = bot.slack.roots(ALERTS)
    assert len(roots) == 2 and all("from Grafana" in root.all_text() for root in roots)
    texts = [bot.diagnosis(root).all_text() for root in roots]
    assert sum("in cluster east:" in t for t in texts) == 1
    assert sum("in cluster west:" in t for t in texts) == 1
    notes = [m.all_text() for root in roots for m in bot.slack.thread(root.ts)
             if "not in the clusters map" in m.all_text()]  # fmt: skip
    assert len(notes) == 1 and "names cluster 'north'" in notes[0], notes
    assert sorted(bot.routes.built()) == ["east", "west"]
