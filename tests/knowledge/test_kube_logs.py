"""The Kubernetes log source against kmock, a loopback emulator of the Kubernetes API, through the
official client: a deployment's pods, every container, the previous instance after a restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import kmock
import pytest
from kubernetes.client import ApiClient, AppsV1Api, Configuration, CoreV1Api

from knowledge.errors import LogSourceError
from knowledge.kube_logs import KubernetesLogSource

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "recommender", "namespace": "shop"},
    "spec": {
        "selector": {"matchLabels": {"app": "recommender"}},
        "template": {
            "metadata": {"labels": {"app": "recommender"}},
            "spec": {"containers": [{"name": "app", "image": "shop/recommender:1"}]},
        },
    },
}

STATEFUL_SET = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "orders-db", "namespace": "shop"},
    "spec": {
        "serviceName": "orders-db",
        "selector": {"matchLabels": {"app": "recommender"}},  # the same pods, for brevity
        "template": DEPLOYMENT["spec"]["template"],
    },
}


def pod(name: str, restarts: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "recommender"}},
        "spec": {"containers": [{"name": "app", "image": "shop/recommender:1"}]},
        "status": {
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "shop/recommender:1",
                    "imageID": "",
                    "ready": True,
                    "restartCount": restarts,
                }
            ]
        },
    }


ASKED: list[dict[str, str]] = []  # the query of every log request, for the bounds test


def log_body(request: kmock.Request) -> str:
    ASKED.append(dict(request.params))
    previous = request.params.get("previous") == "true"
    assert request.params.get("timestamps") == "true"
    if previous:
        return "2027-01-15T08:00:10.000000001Z FATAL out of memory\n"
    return (
        "2027-01-15T07:00:00Z INFO too old, outside the window\n"
        '2027-01-15T08:00:20.5Z {"level": "warn", "msg": "payload 6210 bytes"}\n'
        "2027-01-15T08:00:30Z INFO served\n"
    )


@pytest.fixture
def kube() -> Iterator[tuple[CoreV1Api, AppsV1Api]]:
    """kmock on its own event loop in a thread (the official client is synchronous)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    state: dict[str, Any] = {}
    pods_path = "/api/v1/namespaces/shop/pods"

    async def serve() -> None:
        async with kmock.KubernetesEmulator() as handler, kmock.Server(handler) as server:
            handler["get /apis/apps/v1/namespaces/shop/deployments/recommender"] << DEPLOYMENT
            handler[f"get {pods_path}"] << {
                "apiVersion": "v1",
                "kind": "PodList",
                "metadata": {},
                "items": [pod("rec-1", 1), pod("rec-2", 0)],
            }
            for name in ("rec-1", "rec-2"):
                handler[f"get {pods_path}/{name}/log"] << log_body
            for kind in ("deployments", "statefulsets"):
                for name in ("ghost", "orders-db"):
                    if (kind, name) != ("statefulsets", "orders-db"):
                        handler[f"get /apis/apps/v1/namespaces/shop/{kind}/{name}"] << (
                            lambda _r: kmock.KubernetesNotFoundError()
                        )
            handler["get /apis/apps/v1/namespaces/shop/statefulsets/orders-db"] << STATEFUL_SET
            state["url"], state["handler"] = str(server.url).rstrip("/"), handler
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    assert ready.wait(10)
    config = Configuration(host=state["url"])
    client = ApiClient(config)
    try:
        yield CoreV1Api(client), AppsV1Api(client)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def test_pods_of_a_deployment_with_previous_containers(
    kube: tuple[CoreV1Api, AppsV1Api],
) -> None:
    core, apps = kube
    source = KubernetesLogSource(core, apps, now=lambda: NOW)
    start = NOW - 60  # 2027-01-15T07:59:00Z
    lines = source.fetch("shop", "recommender", start, start + 120)
    assert [(line.level, line.message, line.source) for line in lines] == [
        ("FATAL", "out of memory", "rec-1/app (previous)"),
        ("WARN", "payload 6210 bytes", "rec-1/app"),
        ("WARN", "payload 6210 bytes", "rec-2/app"),
        ("INFO", "served", "rec-1/app"),
        ("INFO", "served", "rec-2/app"),
    ]


def test_a_statefulsets_pods_are_read_too(kube: tuple[CoreV1Api, AppsV1Api]) -> None:
    """A database that is a StatefulSet, ranked as where a fault may have started, is read."""
    core, apps = kube
    lines = KubernetesLogSource(core, apps, now=lambda: NOW).fetch("shop", "orders-db", 0, NOW + 60)
    assert {line.source for line in lines} == {"rec-1/app", "rec-2/app", "rec-1/app (previous)"}


def test_unknown_deployment_is_a_log_source_error(
    kube: tuple[CoreV1Api, AppsV1Api],
) -> None:
    core, apps = kube
    with pytest.raises(LogSourceError, match="cannot list the pods of shop/ghost: 404"):
        KubernetesLogSource(core, apps, now=lambda: NOW).fetch("shop", "ghost", 0, NOW)


def test_lines_bytes_and_time_read_are_bounded_in_all(kube: tuple[CoreV1Api, AppsV1Api]) -> None:
    """Three containers to read (rec-1, its previous instance, rec-2) share the line and byte
    limits evenly, each asking the API server for its most recent lines only."""
    core, apps = kube
    ASKED.clear()
    source = KubernetesLogSource(core, apps, now=lambda: NOW, max_lines=300, limit_bytes=900_000)
    source.fetch("shop", "recommender", NOW - 60, NOW + 60)
    assert [(q["tailLines"], q["limitBytes"]) for q in ASKED] == [("100", "300000")] * 3
    with pytest.raises(LogSourceError, match="no time left to read the pod logs"):
        source.fetch("shop", "recommender", NOW - 60, NOW + 60, time_left=lambda: 0.0)
