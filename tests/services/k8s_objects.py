"""Schema-valid Kubernetes objects for the emulated API: a Deployment with its ReplicaSets (one
per revision) and Pods, shaped the way the API server and the deployment controller leave them."""

from __future__ import annotations

from typing import Any

REVISION = "deployment.kubernetes.io/revision"


def pod_template(app: str, image: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": app, "image": image, "ports": [{"containerPort": 8080}]}]},
    }


def deployment(
    name: str,
    namespace: str = "shop",
    replicas: int = 3,
    image: str = "shop/app:1.4.2",
    revision: int = 2,
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "resourceVersion": "100",
            "generation": 1,
            "labels": {"app": name},
            "annotations": {REVISION: str(revision)},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name, image),
            "strategy": {"type": "RollingUpdate"},
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "observedGeneration": 1,
        },
    }


def stateful_set(name: str, namespace: str = "shop", replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "resourceVersion": "100",
            "labels": {"app": name},
        },
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name, f"shop/{name}:1"),
        },
        "status": {"replicas": replicas, "readyReplicas": replicas},
    }


def replica_set(
    owner: dict[str, Any], revision: int, image: str, replicas: int, created: str
) -> dict[str, Any]:
    name = owner["metadata"]["name"]
    template_hash = f"h{revision}x{len(image)}"
    template = pod_template(name, image)
    template["metadata"]["labels"]["pod-template-hash"] = template_hash
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-{template_hash}",
            "namespace": owner["metadata"]["namespace"],
            "uid": f"uid-rs-{name}-{revision}",
            "creationTimestamp": created,
            "labels": {"app": name, "pod-template-hash": template_hash},
            "annotations": {
                REVISION: str(revision),
                "kubernetes.io/change-cause": f"image {image}",
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": name,
                    "uid": owner["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name, "pod-template-hash": template_hash}},
            "template": template,
        },
        "status": {"replicas": replicas},
    }


def pod(
    app: str,
    suffix: str,
    namespace: str = "shop",
    restarts: int = 0,
    last_reason: str | None = None,
    exit_code: int = 137,
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": app,
        "image": "shop/app:1.4.2",
        "imageID": "",
        "ready": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2027-01-15T09:58:00Z"}},
    }
    if last_reason:
        status["lastState"] = {
            "terminated": {
                "reason": last_reason,
                "exitCode": exit_code,
                "finishedAt": "2027-01-15T09:57:40Z",
            }
        }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{app}-{suffix}", "namespace": namespace, "labels": {"app": app}},
        "spec": {"containers": [{"name": app, "image": "shop/app:1.4.2"}]},
        "status": {"phase": "Running", "containerStatuses": [status]},
    }


def scale_of(deployment: dict[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale view of a Deployment, as the scale subresource returns it."""
    meta = deployment["metadata"]
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "resourceVersion": meta.get("resourceVersion"),
        },
        "spec": {"replicas": deployment["spec"]["replicas"]},
        "status": {"replicas": deployment.get("status", {}).get("replicas", 0), "selector": "app"},
    }
