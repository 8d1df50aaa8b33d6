"""The Kubernetes cluster backend, through the official client (kubeconfig or in-cluster).

Writes are PATCHes that are safe to resend: the scale subresource sets a replica count, a restart
sets the pod-template annotation ``kubectl.kubernetes.io/restartedAt`` to a value fixed before the
first attempt, a rollback replaces the template with the previous ReplicaSet's (a JSON patch that
carries the resourceVersion it was computed from, so a concurrent change is a 409, not a silent
overwrite; a 409 after a lost answer is resolved by re-reading: the template already in place
means it was done). Every call retries transient failures (5xx, timeouts, 429 after Retry-After)
and maps the API's answer to Medic's errors: 403 permission, 404 not found, 409 conflict, 4xx
invalid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.utils.quantity import parse_quantity

from tools.backends import (
    ClusterEvent,
    DeploymentInfo,
    PodRestarts,
    RollbackPlan,
    Rollout,
    template_digest,
)
from tools.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidRequestError,
    PermissionDeniedError,
    TargetNotFoundError,
    ToolError,
    TransientError,
)
from tools.retry import RetryPolicy

T = TypeVar("T")

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
POD_TEMPLATE_HASH = "pod-template-hash"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
FIELD_MANAGER = "medic"
TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
MAX_RESOURCES = 16  # resource names read per container's limits (a template is data too)
MAX_QUOTAS = 50  # ResourceQuotas read per namespace
EVENT_PAGE = 500  # Events asked for per request
EVENT_PAGES = 4  # requests at most: a namespace flooded with Events is cut, not read for ever
MAX_EVENT_TEXT = 300  # an Event's message as kept: cluster text, cut to a line of a thread


def _tightest(quantities: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """The smallest positive value per resource over ``quantities`` (Kubernetes quantities such
    as ``512Mi`` or ``500m``, read by the client's own parser; at most ``MAX_RESOURCES`` names
    each: a template or quota is data too). A quantity that does not parse is left out, not
    guessed."""
    tightest: dict[str, float] = {}
    for given in quantities:
        for resource, quantity in list(given.items())[:MAX_RESOURCES]:
            try:
                value = float(parse_quantity(quantity))  # type: ignore[no-untyped-call]
            except (ValueError, TypeError, ArithmeticError):
                continue
            if value > 0:
                tightest[str(resource)] = min(value, tightest.get(str(resource), value))
    return tightest


def load_api_client(
    config_file: str | None = None, context: str | None = None, in_cluster: bool | None = None
) -> k8s.ApiClient:
    """An API client from the in-cluster service account, else from kubeconfig (``config_file``,
    default ~/.kube/config; ``context``, default the current one). ``in_cluster`` true: only the
    service account; false: only kubeconfig - with several clusters, a context that names another
    cluster must not quietly become the pod's own."""
    try:
        if in_cluster is False:
            raise k8s_config.ConfigException("kubeconfig only")
        k8s_config.load_incluster_config()  # type: ignore[no-untyped-call]
        configuration = k8s.Configuration.get_default_copy()
        source = "in-cluster service account"
    except k8s_config.ConfigException as exc:
        if in_cluster:
            raise BackendUnavailableError(
                f"no in-cluster service account ({exc}); in_cluster is for Medic running in a pod"
            ) from exc
        configuration = k8s.Configuration()
        try:
            k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=config_file or "~/.kube/config",
                context=context,
                client_configuration=configuration,
            )
        except (k8s_config.ConfigException, OSError) as exc:
            raise BackendUnavailableError(
                f"no Kubernetes credentials: not in a cluster and kubeconfig failed ({exc}); "
                "set KUBECONFIG or run Medic in the cluster"
            ) from exc
        source = f"kubeconfig context {context or 'current'}"
    configuration.retries = False  # retries are ours: transient errors only, idempotent-aware
    api = k8s.ApiClient(configuration)
    api.user_agent = f"medic ({source})"
    return api


class KubernetesCluster:
    def __init__(
        self,
        api: k8s.ApiClient,
        *,
        name: str = "kube",
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        """``timeout``: (connect, read) seconds per request; a request that times out is retried
        like a 5xx (every write here is safe to send again)."""
        self._timeout = timeout
        self._apps = k8s.AppsV1Api(api)
        self._core = k8s.CoreV1Api(api)
        self._host = api.configuration.host  # named in connection errors: which API server
        self._name = name
        self._retry = retry or RetryPolicy()

    @property
    def name(self) -> str:
        return self._name

    # --- reads -----------------------------------------------------------------------------------
    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo:
        deployment = self._read(namespace, name)
        template = self._apps.api_client.sanitize_for_serialization(deployment.spec.template)
        return _info(deployment, template)

    def container_limits(self, namespace: str, name: str) -> dict[str, float]:
        """The tightest limit per resource over the containers of the Deployment's pod template
        (``memory`` in bytes, ``cpu`` in cores): what the watch forecasts usage against. A
        quantity that does not parse is left out, not guessed."""
        template = self._read(namespace, name).spec.template
        return _tightest(
            (c.resources.limits if c.resources else None) or {}
            for c in template.spec.containers or []
        )

    def resource_quotas(self, namespace: str) -> dict[str, float]:
        """The tightest hard limit per resource over the namespace's ResourceQuotas
        (``status.hard``, as the quota controller enforces it, else ``spec.hard``): what the
        watch forecasts the namespace's usage against. A quantity that does not parse is left
        out, not guessed."""
        quotas: Any = self._call(
            f"list resource quotas of {namespace}",
            lambda: self._core.list_namespaced_resource_quota(
                namespace, limit=MAX_QUOTAS, _request_timeout=self._timeout
            ),
        )
        return _tightest(
            (q.status.hard if q.status else None) or (q.spec.hard if q.spec else None) or {}
            for q in (quotas.items or [])[:MAX_QUOTAS]
        )

    def recent_rollouts(self, namespace: str, name: str, limit: int = 5) -> list[Rollout]:
        return [
            Rollout(
                revision=_revision(rs.metadata),
                created_at=str(rs.metadata.creation_timestamp or ""),
                images=_images(rs.spec.template),
                replicas=(rs.spec.replicas or 0),
                change_cause=(rs.metadata.annotations or {}).get(CHANGE_CAUSE, ""),
                labels=_own(getattr(rs.spec.template.metadata, "labels", None)),
                annotations=_own(getattr(rs.spec.template.metadata, "annotations", None)),
            )
            for rs in self._replica_sets(self._read(namespace, name))[:limit]
        ]

    def pod_restarts(self, namespace: str, name: str) -> list[PodRestarts]:
        deployment = self._read(namespace, name)
        selector = deployment.spec.selector.match_labels or {}
        pods: Any = self._call(
            f"list pods of {namespace}/{name}",
            lambda: self._core.list_namespaced_pod(
                namespace, label_selector=_selector(selector), _request_timeout=self._timeout
            ),
        )
        found = []
        for pod in pods.items:
            if not _matches(pod.metadata.labels, selector):
                continue
            for status in (pod.status and pod.status.container_statuses) or []:
                last = status.last_state.terminated if status.last_state else None
                found.append(
                    PodRestarts(
                        pod=pod.metadata.name,
                        container=status.name,
                        restarts=status.restart_count,
                        last_reason=last.reason if last else None,
                        last_exit_code=last.exit_code if last else None,
                        last_finished_at=str(last.finished_at)
                        if last and last.finished_at
                        else None,
                    )
                )
        return found

    def recent_events(
        self, namespace: str, name: str, since: float, limit: int = 50
    ) -> list[ClusterEvent]:
        """The namespace's Events (core/v1, pages of ``EVENT_PAGE``, at most ``EVENT_PAGES`` of
        them: a namespace flooded with events is cut, not read for ever) about the workload
        ``name`` or a pod, ReplicaSet or job of it by its generated name; the ``limit`` most
        recent since ``since``, oldest first. Field selectors match names exactly, so the
        workload's pods are matched here."""
        found: list[ClusterEvent] = []
        token: str | None = None

        def page_after(token: str | None) -> Callable[[], Any]:
            return lambda: self._core.list_namespaced_event(
                namespace, limit=EVENT_PAGE, _continue=token, _request_timeout=self._timeout
            )

        for _ in range(EVENT_PAGES):
            page: Any = self._call(f"list events in {namespace}", page_after(token))
            for item in page.items or []:
                event = cluster_event(item)
                if event and event.at >= since and belongs_to(event.name, name):
                    found.append(event)
            token = page.metadata._continue if page.metadata else None
            if not token:
                break
        found.sort(key=lambda e: e.at)
        return found[-limit:] if limit > 0 else []

    def workloads(self, namespace: str, limit: int) -> list[str]:
        """One page of each kind (``limit`` items): a namespace with more workloads than an
        investigation looks at is cut, not paged through."""
        deployments: Any = self._call(
            f"list deployments in {namespace}",
            lambda: self._apps.list_namespaced_deployment(
                namespace, limit=limit, _request_timeout=self._timeout
            ),
        )
        stateful: Any = self._call(
            f"list statefulsets in {namespace}",
            lambda: self._apps.list_namespaced_stateful_set(
                namespace, limit=limit, _request_timeout=self._timeout
            ),
        )
        names = {item.metadata.name for item in [*deployments.items, *stateful.items]}
        return sorted(names)[:limit]

    # --- writes ----------------------------------------------------------------------------------
    def scale(self, namespace: str, name: str, replicas: int, *, dry_run: bool = False) -> int:
        scale: Any = self._call(
            f"scale {namespace}/{name}",
            lambda: self._apps.patch_namespaced_deployment_scale(
                name,
                namespace,
                {"spec": {"replicas": replicas}},
                dry_run="All" if dry_run else None,
                field_manager=FIELD_MANAGER,
                _content_type=MERGE_PATCH,
                _request_timeout=self._timeout,
            ),
        )
        return int(scale.spec.replicas)

    def restart(
        self, namespace: str, name: str, *, restarted_at: str, dry_run: bool = False
    ) -> None:
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}}
        self._patch("restart", namespace, name, body, MERGE_PATCH, dry_run)

    def rollback(self, namespace: str, name: str, *, dry_run: bool = False) -> RollbackPlan:
        deployment = self._read(namespace, name)
        current = _revision(deployment.metadata)
        older = [rs for rs in self._replica_sets(deployment) if _revision(rs.metadata) < current]
        if not older:
            raise InvalidRequestError(
                f"deployment {namespace}/{name} has no earlier revision to roll back to"
            )
        previous = older[0]
        template = self._apps.api_client.sanitize_for_serialization(previous.spec.template)
        template.get("metadata", {}).get("labels", {}).pop(POD_TEMPLATE_HASH, None)
        patch = [
            {
                "op": "replace",
                "path": "/metadata/resourceVersion",
                "value": deployment.metadata.resource_version,
            },
            {"op": "replace", "path": "/spec/template", "value": template},
        ]
        try:
            self._patch("roll back", namespace, name, patch, JSON_PATCH, dry_run)
        except ConflictError:
            now = self._apps.api_client.sanitize_for_serialization(
                self._read(namespace, name).spec.template
            )
            if dry_run or now != template:
                raise
        return RollbackPlan(
            current,
            _revision(previous.metadata),
            _images(deployment.spec.template),
            _images(previous.spec.template),
            template_digest(template),
        )

    # --- plumbing --------------------------------------------------------------------------------
    def _read(self, namespace: str, name: str) -> Any:
        return self._call(
            f"read deployment {namespace}/{name}",
            lambda: self._apps.read_namespaced_deployment(
                name, namespace, _request_timeout=self._timeout
            ),
        )

    def _patch(
        self, verb: str, namespace: str, name: str, body: Any, content_type: str, dry_run: bool
    ) -> None:
        self._call(
            f"{verb} {namespace}/{name}",
            lambda: self._apps.patch_namespaced_deployment(
                name,
                namespace,
                body,
                dry_run="All" if dry_run else None,
                field_manager=FIELD_MANAGER,
                _content_type=content_type,
                _request_timeout=self._timeout,
            ),
        )

    def _replica_sets(self, deployment: Any) -> list[Any]:
        """The Deployment's ReplicaSets (controller-owned), newest revision first."""
        meta = deployment.metadata
        selector = deployment.spec.selector.match_labels or {}
        found: Any = self._call(
            f"list replicasets of {meta.namespace}/{meta.name}",
            lambda: self._apps.list_namespaced_replica_set(
                meta.namespace, label_selector=_selector(selector), _request_timeout=self._timeout
            ),
        )
        owned = [
            rs
            for rs in found.items
            if any(o.controller and o.uid == meta.uid for o in rs.metadata.owner_references or [])
        ]
        return sorted(owned, key=lambda rs: _revision(rs.metadata), reverse=True)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        # Every Kubernetes write here is idempotent (see the module docstring).
        return self._retry.call(lambda: api_call(self._host, what, fn), idempotent=True)


def api_call(host: str, what: str, fn: Callable[[], T]) -> T:
    """``fn()`` (one request to the API at ``host``) with the client's errors as Medic's: the
    API's refusals translated (``_translate``), a connection never made transient and certainly
    not applied, an answer that never came transient and perhaps applied."""
    try:
        return fn()
    except ApiException as exc:
        raise _translate(what, exc) from exc
    except urllib3.exceptions.NewConnectionError as exc:
        raise TransientError(
            f"cannot connect to the Kubernetes API at {host} to {what}", may_have_applied=False
        ) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise TransientError(
            f"the Kubernetes API at {host} did not answer to {what}: {type(exc).__name__}",
            may_have_applied=True,
        ) from exc


def _translate(what: str, exc: ApiException) -> ToolError:
    status = int(exc.status or 0)
    detail = f"{what}: Kubernetes answered {status} {exc.reason or ''}".rstrip()
    if status == 403:
        return PermissionDeniedError(
            f"{detail}; Medic's service account lacks this permission (see docker/rbac.yaml)"
        )
    if status == 404:
        return TargetNotFoundError(f"{detail}; check the namespace and the name")
    if status == 409:
        return ConflictError(f"{detail}; the Deployment changed meanwhile, propose again")
    if status == 429:
        retry_after = _retry_after(exc)
        return TransientError(detail, may_have_applied=False, retry_after=retry_after)
    if status >= 500 or status == 0:
        return TransientError(detail, may_have_applied=True)
    return InvalidRequestError(detail)


# What another adapter of the same API (tools.registry.kube_job) makes of Kubernetes' answers.


def _retry_after(exc: ApiException) -> float | None:
    value = (exc.headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def belongs_to(obj: str, workload: str) -> bool:
    """Whether an object named ``obj`` is the workload or one Kubernetes generated for it: a
    Deployment's ReplicaSet (``name-<hash>``) or pod (``name-<hash>-<suffix>``), a StatefulSet's
    pod (``name-<ordinal>``) - not another workload that merely shares the prefix."""
    if obj == workload:
        return True
    if not obj.startswith(workload + "-"):
        return False
    return bool(_GENERATED.fullmatch(obj[len(workload) + 1 :]))


# Kubernetes' generated suffixes use this alphabet (no vowels: k8s.io/apimachinery rand), so a
# workload named like a suffix ("checkout-worker") is not taken for a pod of "checkout".
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_GENERATED = re.compile(rf"[0-9]+|{_SAFE}{{6,10}}(-{_SAFE}{{5}})?|{_SAFE}{{5}}")


def cluster_event(item: Any) -> ClusterEvent | None:
    """A core/v1 Event as Medic keeps it (text bounded, on one line); None without a time."""
    when = item.last_timestamp or item.event_time or item.first_timestamp
    if when is None and item.metadata is not None:
        when = item.metadata.creation_timestamp
    if when is None:
        return None
    involved = item.involved_object
    return ClusterEvent(
        at=when.timestamp(),
        reason=_cut(item.reason, 64),
        message=_cut(item.message, MAX_EVENT_TEXT),
        kind=_cut(involved.kind if involved else "", 64),
        name=_cut(involved.name if involved else "", 253),
        type=_cut(item.type or "Normal", 16),
        count=max(1, min(int(item.count or 1), 10**9)),
    )


def _cut(text: str | None, limit: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _revision(meta: Any) -> int:
    try:
        return int((meta.annotations or {}).get(REVISION, 0))
    except ValueError:
        return 0


def _own(meta: dict[str, str] | None) -> dict[str, str]:
    """Labels or annotations as the team wrote them: without the ones Kubernetes adds itself."""
    return {k: v for k, v in (meta or {}).items() if k not in (POD_TEMPLATE_HASH, RESTARTED_AT)}


def _images(template: Any) -> tuple[str, ...]:
    return tuple(c.image or "" for c in template.spec.containers)


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _matches(labels: dict[str, str] | None, selector: dict[str, str]) -> bool:
    return all((labels or {}).get(k) == v for k, v in selector.items())


def _info(deployment: Any, template: dict[str, Any]) -> DeploymentInfo:
    """``template``: the pod template as the API serves it (for its restart stamp and digest)."""
    status = deployment.status
    annotations = template.get("metadata", {}).get("annotations") or {}
    return DeploymentInfo(
        namespace=deployment.metadata.namespace,
        name=deployment.metadata.name,
        replicas=deployment.spec.replicas if deployment.spec.replicas is not None else 1,
        ready_replicas=(status.ready_replicas or 0) if status else 0,
        revision=_revision(deployment.metadata),
        images=_images(deployment.spec.template),
        updated_replicas=status.updated_replicas if status else None,
        available_replicas=status.available_replicas if status else None,
        restarted_at=annotations.get(RESTARTED_AT),
        template=template_digest(template),
    )
