"""Pod logs are bytes someone else wrote: a line that is not UTF-8 (a binary write, Latin-1, a
character cut by ``limitBytes``), a NUL or a 100 KB line costs only itself - the container's
other lines are read, against kmock through the official client (was: the client's strict
decoding raised ``UnicodeDecodeError`` and every line of the service was lost, "an internal
error" in the thread)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import kmock
import pytest
from kubernetes.client import ApiClient, AppsV1Api, Configuration, CoreV1Api

from knowledge.kube_logs import KubernetesLogSource
from tests.knowledge.test_kube_logs import DEPLOYMENT, NOW, pod

HOSTILE_LOG = (
    b"2027-01-15T08:00:10Z ERROR caf\xe9 payment declined\n"  # Latin-1
    b"2027-01-15T08:00:11Z WARN bin\x00ary \xff\xfe write\n"
    b"2027-01-15T08:00:12Z INFO " + b"<!channel> " * 10_000 + b"\n"
    b"2027-01-15T08:00:13Z INFO served\n"
    b"2027-01-15T08:00:14Z INFO cut mid-character \xe2\x82"  # limitBytes ended inside a euro sign
)


@pytest.fixture
def kube() -> Iterator[tuple[CoreV1Api, AppsV1Api]]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        async with kmock.KubernetesEmulator() as handler, kmock.Server(handler) as server:
            handler["get /apis/apps/v1/namespaces/shop/deployments/recommender"] << DEPLOYMENT
            handler["get /api/v1/namespaces/shop/pods"] << {
                "apiVersion": "v1",
                "kind": "PodList",
                "metadata": {},
                "items": [pod("rec-1", 0)],
            }
            (
                handler["get /api/v1/namespaces/shop/pods/rec-1/log"]
                << kmock.headers(
                    {"Content-Type": "text/plain"}  # as the API server answers
                )
                << HOSTILE_LOG
            )
            state["url"] = str(server.url).rstrip("/")
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    assert ready.wait(10)
    client = ApiClient(Configuration(host=state["url"]))
    try:
        yield CoreV1Api(client), AppsV1Api(client)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def test_a_line_that_is_not_utf8_costs_only_itself(kube: tuple[CoreV1Api, AppsV1Api]) -> None:
    core, apps = kube
    lines = KubernetesLogSource(core, apps, now=lambda: NOW).fetch(
        "shop", "recommender", 0, NOW + 60
    )
    assert [(line.level, line.message[:40]) for line in lines] == [
        ("ERROR", "caf\ufffd payment declined"),
        ("WARN", "bin\x00ary \ufffd\ufffd write"),
        ("INFO", "<!channel> <!channel> <!channel> <!chann"),
        ("INFO", "served"),
        ("INFO", "cut mid-character \ufffd"),
    ]
