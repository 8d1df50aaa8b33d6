"""``retrain`` on a real cluster: a Kubernetes Job created from the policy's template.

The policy names, per registered model, the namespace and the Job spec that trains it
(``training_jobs``, validated and bounded by ``tools.policy.TrainingJob``); this pipeline only
creates that Job - the guard and the approval decide whether it may. The Job's name carries the
proposal it executes (``medic-train-<model>-<proposal>``), so a retried create that finds it
already there knows it is its own, and anyone reading ``kubectl get jobs`` can find the approval
in the audit log. Medic needs ``create`` and ``get`` on jobs in the training namespace, nothing more
(docker/rbac.yaml). The training code itself registers the new version in the registry when it
ends, as a Kubeflow or SageMaker pipeline would: those are adapters of the same
``TrainingPipeline`` protocol (see docs/architecture.md).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tools.errors import TargetNotFoundError
from tools.kube import TIMEOUT, api_call
from tools.policy import TrainingJob
from tools.registry.base import RegistryError, TrainingRun
from tools.retry import RetryPolicy

T = TypeVar("T")

MODEL_ANNOTATION = "medic.io/model"
PROPOSAL_LABEL = "medic.io/proposal"
MANAGED_BY = {"app.kubernetes.io/managed-by": "medic"}
PREVIEW = "preview"  # the name part of a dry run's Job, which has no proposal yet
SLUG = re.compile(r"[^a-z0-9-]+")


def job_name(model: str, reference: str) -> str:
    """A DNS-1123 name under 63 characters from a model name (any text) and a proposal id: the
    model's readable part, and a hash of the whole name so two models never share a Job."""
    readable = SLUG.sub("-", model.lower()).strip("-")[:24].strip("-") or "model"
    digest = hashlib.sha256(model.encode()).hexdigest()[:6]
    tail = SLUG.sub("-", reference.lower()).strip("-")[:16] or PREVIEW
    return f"medic-train-{readable}-{digest}-{tail}"


class KubeJobPipeline:
    """Starts a training run as a Job from ``jobs[model]``; reads its state from the Job."""

    def __init__(
        self,
        api: k8s.ApiClient,
        jobs: Mapping[str, TrainingJob],
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        self._batch = k8s.BatchV1Api(api)
        self._host = api.configuration.host
        self._jobs = dict(jobs)
        self._retry = retry or RetryPolicy()
        self._timeout = timeout

    def _job(self, model: str) -> TrainingJob:
        job = self._jobs.get(model)
        if job is None:
            known = ", ".join(sorted(self._jobs)) or "none"
            raise RegistryError(
                f"no training job for model {model[:80]!r} in the policy's training_jobs "
                f"(configured: {known})"
            )
        return job

    def estimate(self, model: str) -> TrainingRun:
        job = self._job(model)
        return TrainingRun(model, "", "dry_run", job.minutes, job.cost)

    def start(self, model: str, *, dry_run: bool = False, reference: str = "") -> TrainingRun:
        """Create the Job (server-side dry run first when ``dry_run``); a Job of the same name
        that already exists is this proposal's own, created by an earlier attempt."""
        job = self._job(model)
        name = job_name(model, reference)
        body: Any = self._body(model, name, reference, job)  # the client sends a dict as it is
        try:
            self._call(
                f"create job {job.namespace}/{name}",
                lambda: self._batch.create_namespaced_job(
                    job.namespace,
                    body,
                    dry_run="All" if dry_run else None,
                    _request_timeout=self._timeout,
                ),
            )
        except _AlreadyExistsError:
            if dry_run or not reference:
                raise RegistryError(
                    f"a Job named {name} already exists in {job.namespace}"
                ) from None
        status = "dry_run" if dry_run else "started"
        return TrainingRun(model, "" if dry_run else name, status, job.minutes, job.cost)

    def status(self, model: str, run_id: str) -> TrainingRun:
        job = self._job(model)
        found = self._call(
            f"read job {job.namespace}/{run_id}",
            lambda: self._batch.read_namespaced_job(
                run_id, job.namespace, _request_timeout=self._timeout
            ),
        )
        state = found.status
        conditions = {c.type: c.status for c in (state.conditions or [])} if state else {}
        if conditions.get("Complete") == "True" or (state and state.succeeded):
            status = "finished"
        elif conditions.get("Failed") == "True":
            status = "failed"
        else:
            status = "started"
        annotations = (found.metadata.annotations if found.metadata else None) or {}
        return TrainingRun(
            model,
            run_id,
            status,
            job.minutes,
            job.cost,
            version=str(annotations.get("medic.io/model-version", "")),
        )

    def run_for(self, model: str, reference: str) -> TrainingRun | None:
        """The Job named after ``reference`` (``job_name``), None when there is none."""
        try:
            return self.status(model, job_name(model, reference))
        except TargetNotFoundError:
            return None

    @staticmethod
    def _body(model: str, name: str, reference: str, job: TrainingJob) -> dict[str, Any]:
        labels = dict(MANAGED_BY)
        if reference:
            labels[PROPOSAL_LABEL] = SLUG.sub("-", reference.lower()).strip("-")[:63]
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": job.namespace,
                "labels": labels,
                "annotations": {MODEL_ANNOTATION: model},
            },
            "spec": copy.deepcopy(job.template),
        }

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        def create() -> T:
            try:
                return fn()
            except ApiException as exc:
                if exc.status == 409:
                    raise _AlreadyExistsError() from exc
                raise

        # A create with a fixed name is idempotent: a second one finds the first (409).
        return self._retry.call(lambda: api_call(self._host, what, create), idempotent=True)


class _AlreadyExistsError(Exception):
    """The Job's name is taken (409): an earlier attempt of the same proposal created it."""
