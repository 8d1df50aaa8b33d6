"""A Kubernetes API for contract tests: kmock's stateful emulator on 127.0.0.1, run in a thread so
the (synchronous) official client can talk to it over real HTTP.

kmock stores objects and serves reads; this subclass adds what the adapter relies on and the plain
emulator leaves out: JSON and merge patches, the ``scale`` subresource, server-side dry run
(``dryRun=All`` computes the result and stores nothing) and resourceVersion/generation bumps.
``KubeApi.fail`` injects the next responses' errors (403, 409, 429 with Retry-After, 5xx); an
injected error changes nothing, as on a real API server that refused the request. ``delay`` makes
the next requests slow (a client timing out), ``lose_next_answer`` applies a patch and answers 504.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import jsonpatch
import kmock
import pytest
import yaml
from kmock._internal import apps, enums, rendering

from tests.services import k8s_objects

DEPLOYMENTS = kmock.resource("apps/v1/deployments")
REPLICASETS = kmock.resource("apps/v1/replicasets")
PODS = kmock.resource("v1/pods")
STATEFULSETS = kmock.resource("apps/v1/statefulsets")
JOBS = kmock.resource("batch/v1/jobs")
RESOURCEQUOTAS = kmock.resource("v1/resourcequotas")
EVENTS = kmock.resource("v1/events")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@attrs.define(kw_only=True)
class KubeApiEmulator(kmock.KubernetesEmulator):
    # (method, status, headers) answered, in order, to the next matching requests
    failures: list[tuple[str, int, dict[str, str]]] = attrs.field(factory=list)
    # how many of the next patches are applied but answered 504, as when a gateway times out
    lost_answers: int = 0
    # (method, seconds) the next matching requests wait before they are handled, in order
    delays: list[tuple[str, float]] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        (self.fallback**1)[enums.action.UPDATE] << self._serve_patch
        (self.fallback**1)[enums.action.CREATE] << self._serve_create_or_dry_run

    async def _handle(self, request: rendering.Request) -> Any:
        for index, (method, seconds) in enumerate(self.delays):
            if request.method == enums.method(method):
                del self.delays[index]
                await asyncio.sleep(seconds)
                break
        for index, (method, status, headers) in enumerate(self.failures):
            if request.method == enums.method(method):
                del self.failures[index]
                error = kmock.KubernetesError(status=status, reason=f"Injected{status}")
                response = await self._render_error(error)
                response.headers.update(headers)
                return response
        dry_create = request.action == enums.action.CREATE and request.params.get("dryRun") == "All"
        if request.resource is not None and (request.action == enums.action.UPDATE or dry_create):
            # Skip the parent's unconditional merge: patches go to reactions, then _serve_patch.
            return await apps.RawHandler._handle(self, request)
        return await super()._handle(request)

    async def _serve_create_or_dry_run(self, request: rendering.Request) -> rendering.Payload:
        """A server-side dry run of a create answers what would be created and stores nothing;
        a real one is kmock's own."""
        if request.params.get("dryRun") == "All":
            key = (request.resource, request.namespace, request.data["metadata"]["name"])
            if key in self.objects and not self.objects[key].deleted:
                raise kmock.KubernetesError(status=409, reason="AlreadyExists")
            return copy.deepcopy(request.data)
        return await kmock.KubernetesEmulator._serve_create(self, request)

    async def _serve_patch(self, request: rendering.Request) -> rendering.Payload:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            raise kmock.KubernetesObjectNotFoundError()
        current = copy.deepcopy(dict(self.objects[key].raw))
        body = request.data
        if request.subresource == "scale":
            body = {"spec": {"replicas": body["spec"]["replicas"]}}
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("application/json-patch+json"):
            updated = jsonpatch.apply_patch(current, body)
        else:  # merge and strategic merge patches are the same for the fields Medic changes
            updated = merge_patch(current, body)
        stored_version = current.get("metadata", {}).get("resourceVersion")
        if updated.get("metadata", {}).get("resourceVersion") != stored_version:
            raise kmock.KubernetesError(
                status=409, reason="Conflict", message="the object has been modified"
            )
        if updated != current:
            meta = updated.setdefault("metadata", {})
            meta["resourceVersion"] = str(int(meta.get("resourceVersion", "1")) + 1)
            if updated.get("spec") != current.get("spec"):
                meta["generation"] = int(meta.get("generation", 1)) + 1
        if request.params.get("dryRun") != "All":
            self.objects[key] = updated
            if self.lost_answers:
                self.lost_answers -= 1
                raise kmock.KubernetesError(status=504, reason="GatewayTimeout")
        return k8s_objects.scale_of(updated) if request.subresource == "scale" else updated


class KubeApi:
    """The running emulator: its URL, its objects, and kmock's DSL for reactions."""

    def __init__(self, emulator: KubeApiEmulator, url: str) -> None:
        self.emulator = emulator
        self.url = url

    def kubeconfig(self, path: Path) -> Path:
        """A kubeconfig at ``path`` whose one context points at this emulator (token auth), as
        `medic` finds through KUBECONFIG."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test", "cluster": {"server": self.url}}],
            "users": [{"name": "medic", "user": {"token": "t0ken"}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "medic"}}],
            "current-context": "test",
        }
        path.write_text(yaml.safe_dump(config))
        return path

    def put(self, obj: dict[str, Any]) -> None:
        kinds = {
            "Deployment": DEPLOYMENTS,
            "ReplicaSet": REPLICASETS,
            "Pod": PODS,
            "StatefulSet": STATEFULSETS,
            "Job": JOBS,
            "ResourceQuota": RESOURCEQUOTAS,
            "Event": EVENTS,
        }
        kind = kinds[obj["kind"]]
        meta = obj["metadata"]
        self.emulator.objects[kind, meta["namespace"], meta["name"]] = copy.deepcopy(obj)

    def get(self, resource: Any, namespace: str, name: str) -> dict[str, Any]:
        return dict(self.emulator.objects[resource, namespace, name].raw)

    def requests(self, method: str) -> list[rendering.Request]:
        return [r for r in list(self.emulator) if r.method == enums.method(method)]

    def lose_next_answer(self) -> None:
        """Apply the next patch but answer 504, as a gateway that timed out after forwarding."""
        self.emulator.lost_answers += 1

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """Handle the next ``times`` requests with ``method`` only after ``seconds`` (a client
        with a shorter timeout gives up; the request is still carried out)."""
        self.emulator.delays.extend([(method, seconds)] * times)

    def fail(self, method: str, status: int, times: int = 1, **headers: str) -> None:
        """Answer the next ``times`` requests with ``method`` by ``status`` and ``headers``."""
        self.emulator.failures.extend([(method, status, headers)] * times)


@contextmanager
def running_kube_api() -> Iterator[KubeApi]:
    """A fresh emulated Kubernetes API on 127.0.0.1 (in a thread of this process)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        async with KubeApiEmulator() as emulator, kmock.Server(emulator) as server:
            for kind in (
                DEPLOYMENTS,
                REPLICASETS,
                PODS,
                STATEFULSETS,
                JOBS,
                RESOURCEQUOTAS,
                EVENTS,
            ):  # known even when empty,
                emulator.resources[kind] = {}  # as an API server lists no object, not a 404
            holder["api"] = KubeApi(emulator, str(server.url).rstrip("/"))
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the kmock Kubernetes emulator did not start")
    try:
        yield holder["api"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@pytest.fixture
def kube_api() -> Iterator[KubeApi]:
    """A fresh emulated Kubernetes API on 127.0.0.1 for one test."""
    with running_kube_api() as api:
        yield api
