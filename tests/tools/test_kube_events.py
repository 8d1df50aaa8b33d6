"""Kubernetes Events through the official client against kmock's emulated API server: the Events
about a workload and its pods (not a look-alike's), in the window, text bounded; a refusal is a
note and the investigation goes on. The Event objects are core/v1 as the API serves them
(kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/: involvedObject,
reason, message, type, count, first/lastTimestamp), checked by the client's own models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client as k8s

from bot.diagnosis.events import event_evidence, read_events
from tests.services.kube import KubeApi, kube_api  # noqa: F401  (fixture)
from tools.errors import ToolError
from tools.kube import KubernetesCluster, belongs_to
from tools.retry import RetryPolicy

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(
    name: str, reason: str, message: str, at: float, kind: str = "Pod", count: int = 1
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{int(at)}{reason.lower()}", "namespace": "shop"},
        "involvedObject": {"kind": kind, "name": name, "namespace": "shop", "apiVersion": "v1"},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": count,
        "firstTimestamp": stamp(at - 60),
        "lastTimestamp": stamp(at),
        "source": {"component": "kubelet", "host": "node-1"},
    }


def cluster(api: KubeApi) -> KubernetesCluster:
    config = k8s.Configuration(host=api.url)
    return KubernetesCluster(k8s.ApiClient(config), retry=RetryPolicy(attempts=1))


def test_the_events_of_a_workload_and_its_pods_in_the_window(kube_api: KubeApi) -> None:  # noqa: F811
    pod = "checkout-6f7c9d8b5-x2k4z"
    kube_api.put(event(pod, "OOMKilled", "Container app was OOMKilled", NOW - 300, count=3))
    kube_api.put(event(pod, "BackOff", "Back-off restarting failed container app", NOW - 200))
    kube_api.put(
        event("checkout", "ScalingReplicaSet", "Scaled up to 4", NOW - 100, kind="Deployment")
    )
    kube_api.put(event("checkout-db-0", "FailedMount", "a StatefulSet's own", NOW - 100))
    kube_api.put(event("checkout-worker", "BackOff", "another workload", NOW - 100))
    kube_api.put(event(pod, "Unhealthy", "Readiness probe failed", NOW - 7 * 3600))
    events = cluster(kube_api).recent_events("shop", "checkout", NOW - 3600)
    assert [(e.reason, e.name, e.count) for e in events] == [
        ("OOMKilled", pod, 3),
        ("BackOff", pod, 1),
        ("ScalingReplicaSet", "checkout", 1),
    ]
    assert events[0].at == NOW - 300
    asked = kube_api.requests("GET")[-1]
    assert asked.params.get("limit") == "500"


def test_event_text_is_bounded_and_kept_on_one_line(kube_api: KubeApi) -> None:  # noqa: F811
    hostile = "<!channel> *bold*\n" + "x" * 100_000
    kube_api.put(event("checkout-0", "OOMKilled", hostile, NOW - 60))
    (found,) = cluster(kube_api).recent_events("shop", "checkout", NOW - 3600)
    assert len(found.message) <= 300
    assert "\n" not in found.message
    assert found.message.startswith("<!channel> *bold*")  # text, escaped where it is shown


def test_an_api_that_refuses_is_a_note_not_a_failure(kube_api: KubeApi) -> None:  # noqa: F811
    kube_api.fail("GET", 403)
    events, note = read_events(cluster(kube_api), "shop", "checkout", NOW - 3600, NOW)
    assert events == []
    assert note is not None and "Kubernetes events unavailable" in note and "403" in note
    kube_api.fail("GET", 403)
    with pytest.raises(ToolError):
        cluster(kube_api).recent_events("shop", "checkout", NOW - 3600)


def test_events_after_the_window_are_not_evidence_for_it(kube_api: KubeApi) -> None:  # noqa: F811
    kube_api.put(event("checkout-0", "OOMKilled", "during", NOW - 300))
    kube_api.put(event("checkout-0", "OOMKilled", "an hour later", NOW + 3600))
    events, note = read_events(cluster(kube_api), "shop", "checkout", NOW - 3600, NOW)
    assert [e.message for e in events] == ["during"] and note is None


def test_an_oomkilled_event_supports_the_memory_causes_and_backoff_a_crash_loop(
    kube_api: KubeApi,  # noqa: F811
) -> None:
    kube_api.put(event("checkout-0", "OOMKilled", "Container app was OOMKilled", NOW - 300))
    kube_api.put(event("checkout-1", "OOMKilled", "Container app was OOMKilled", NOW - 200))
    kube_api.put(event("checkout-0", "Evicted", "The node was low on resource: memory.", NOW))
    kube_api.put(event("checkout-0", "FailedScheduling", "0/3 nodes are available", NOW))
    kube_api.put(event("checkout-1", "BackOff", "Back-off restarting failed container", NOW))
    kube_api.put(event("checkout-2", "BackOff", "Back-off restarting failed container", NOW))
    events = cluster(kube_api).recent_events("shop", "checkout", NOW - 3600)
    weights = {}
    for cause, evidence, _ in event_evidence(events):
        weights[cause] = max(weights.get(cause, 0.0), evidence.weight)
        assert evidence.kind == "event"
    # checkout-1 restarting after its OOM kill is its consequence; checkout-2's crash is its own
    assert set(weights) == {"memory-leak", "memory-limit", "crash-loop"}
    assert weights["crash-loop"] == 0.3
    assert weights["memory-leak"] > 0.3  # two pods OOMKilled weigh more than one


@pytest.mark.parametrize(
    ("name", "belongs"),
    [
        ("checkout", True),
        ("checkout-6f7c9d8b5", True),  # its ReplicaSet
        ("checkout-6f7c9d8b5-x2k4z", True),  # a pod of it
        ("checkout-0", True),  # a StatefulSet's pod
        ("checkout-worker", False),  # another workload
        ("checkout-db-0", False),
        ("checkoutx-6f7c9d8b5-x2k4z", False),
    ],
)
def test_objects_of_a_workload_are_told_from_look_alikes(name: str, belongs: bool) -> None:
    assert belongs_to(name, "checkout") is belongs


def test_event_text_shown_in_a_thread_is_text_not_markup() -> None:
    """An Event's message under "what changed?" and as evidence in the diagnosis: escaped."""
    from bot.conversation import IncidentEvidence, answer
    from bot.diagnosis.events import event_evidence
    from bot.slack.blocks.replies import answer_message
    from tests.bot.test_conversation import CATALOG, INCIDENT, investigation
    from tools.backends import ClusterEvent

    hostile = ClusterEvent(NOW, "OOMKilled", "<!channel> <https://evil|click> *now*", "Pod", "x-0")
    reply = answer(
        "what changed?", IncidentEvidence(INCIDENT, investigation(events=[hostile])), CATALOG
    )
    message = answer_message(reply.text).payload()
    shown = str(message)
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert "<https://evil|click>" not in shown
    ((cause, evidence, summary), *_) = event_evidence([hostile])
    assert "<!channel>" in evidence.text  # kept as the cluster said it; escaped where rendered
    from bot.diagnosis.hypotheses import Hypothesis
    from bot.slack.blocks import diagnosis_head

    top = Hypothesis(cause, "Memory leak", summary, evidence.weight, [evidence])
    text, head = diagnosis_head(INCIDENT, investigation(hypotheses=[top]), CATALOG)
    rendered = str(head) + text
    assert "OOMKilled" in rendered and "&lt;!channel&gt;" in rendered
    assert "<!channel>" not in rendered and "<https://evil|click>" not in rendered
