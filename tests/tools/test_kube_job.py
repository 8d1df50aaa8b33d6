"""Contract tests of ``retrain`` on Kubernetes against kmock's emulated API server: the Job is
created from the policy's template only after approval (a server-side dry run before), its name
carries the proposal, a retried create finds its own Job, the Job's state is read back, and the
policy refuses templates that are not a Job or are too large."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from sqlalchemy import Engine

from tests.services.kube import JOBS, KubeApi, kube_api  # noqa: F401  (fixture)
from tools.actions import Action, ToolStatus
from tools.audit import AuditLog
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.errors import PolicyError
from tools.executor import Executor
from tools.guard import Guard
from tools.policy import Policy, load_policy
from tools.proposals import ProposalStore
from tools.registry import MemoryRegistry
from tools.registry.kube_job import KubeJobPipeline, job_name
from tools.retry import RetryPolicy
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow

MODEL = "recommender-ranker"
RETRAIN = Action("retrain", "shop", "recommender", {"model": MODEL})
# A batch/v1 JobSpec as a team writes it in the policy (schema-valid: the client parses answers).
TEMPLATE: dict[str, Any] = {
    "backoffLimit": 1,
    "activeDeadlineSeconds": 7200,
    "template": {
        "metadata": {"labels": {"app": "recommender-train"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "train",
                    "image": "registry.example.com/ml/recommender-train:2026.11",
                    "args": ["--model", MODEL, "--window", "7d"],
                }
            ],
        },
    },
}
TRAINING_JOBS = {
    MODEL: {
        "namespace": "ml-training",
        "minutes": 45,
        "cost": "8 GPU-hours on the training pool",
        "template": TEMPLATE,
    }
}


@pytest.fixture
def policy() -> Policy:
    return Policy.model_validate({**load_policy().model_dump(), "training_jobs": TRAINING_JOBS})


@pytest.fixture
def pipeline(kube_api: KubeApi, policy: Policy) -> KubeJobPipeline:  # noqa: F811
    configuration = k8s.Configuration(host=kube_api.url)
    configuration.retries = False
    return KubeJobPipeline(
        k8s.ApiClient(configuration),
        policy.training_jobs,
        retry=RetryPolicy(attempts=2, initial_seconds=0.01, sleep=lambda _s: None),
    )


@pytest.fixture
def flow(
    engine: Engine,
    sim: SimulatedCluster,
    clock: VirtualClock,
    policy: Policy,
    pipeline: KubeJobPipeline,
) -> RemediationWorkflow:
    registry = MemoryRegistry()
    registry.register(MODEL)
    proposals = ProposalStore(engine)
    return RemediationWorkflow(
        proposals=proposals,
        guard=Guard(policy, sim, proposals),
        backends=Backends(sim, sim, sim, registry, pipeline),
        clock=clock,
        audit=AuditLog(engine),
    )


def jobs(api: KubeApi) -> dict[str, dict[str, Any]]:
    return {
        name: dict(obj.raw)
        for (resource, _ns, name), obj in api.emulator.objects.items()
        if resource == JOBS and not obj.deleted
    }


def test_retrain_creates_the_job_from_the_template_only_after_approval(
    flow: RemediationWorkflow,
    kube_api: KubeApi,  # noqa: F811
) -> None:
    proposed = flow.propose("INC-1", RETRAIN, requested_by="medic:planner", source="runbook:x")
    assert proposed.proposal.preview == (
        "start a training run of model recommender-ranker on recent data "
        "(about 45 min, 8 GPU-hours on the training pool)"
    )
    posts = kube_api.requests("POST")
    assert [r.params.get("dryRun") for r in posts] == ["All"]  # the preview asked the server
    assert jobs(kube_api) == {}

    done = flow.approve(proposed.proposal.id, "cli:alice", proposed.proposal.digest)
    assert done.result.ok, done.result.summary
    [(name, job)] = jobs(kube_api).items()
    assert proposed.proposal.id in name and name == done.result.details["run_id"]
    assert job["metadata"]["namespace"] == "ml-training"
    assert job["metadata"]["labels"]["medic.io/proposal"] == proposed.proposal.id
    assert job["metadata"]["annotations"]["medic.io/model"] == MODEL
    assert job["spec"] == TEMPLATE
    assert f"started training run {name} of model recommender-ranker" in done.result.summary


def test_a_retried_create_finds_its_own_job(
    pipeline: KubeJobPipeline,
    kube_api: KubeApi,  # noqa: F811
) -> None:
    first = pipeline.start(MODEL, reference="a1b2c3d4e5f6")
    again = pipeline.start(MODEL, reference="a1b2c3d4e5f6")
    assert again.run_id == first.run_id and again.status == "started"
    assert len(jobs(kube_api)) == 1


def test_the_run_of_a_proposal_is_found_by_its_name(
    pipeline: KubeJobPipeline,
    kube_api: KubeApi,  # noqa: F811
) -> None:
    """An interrupted retrain asks for the Job its proposal created: there (any state), or
    not (404 is None, not an error)."""
    assert pipeline.run_for(MODEL, "a1b2c3d4e5f6") is None
    run = pipeline.start(MODEL, reference="a1b2c3d4e5f6")
    found = pipeline.run_for(MODEL, "a1b2c3d4e5f6")
    assert found is not None and (found.run_id, found.status) == (run.run_id, "started")
    assert pipeline.run_for(MODEL, "ffffffffffff") is None


def test_the_jobs_state_is_read_back(pipeline: KubeJobPipeline, kube_api: KubeApi) -> None:  # noqa: F811
    run = pipeline.start(MODEL, reference="a1b2c3d4e5f6")
    assert pipeline.status(MODEL, run.run_id).status == "started"
    job = jobs(kube_api)[run.run_id]
    job["status"] = {
        "succeeded": 1,
        "conditions": [{"type": "Complete", "status": "True"}],
    }
    job["metadata"]["annotations"]["medic.io/model-version"] = "4"
    kube_api.put(job)
    finished = pipeline.status(MODEL, run.run_id)
    assert (finished.status, finished.version) == ("finished", "4")
    job["status"] = {"failed": 2, "conditions": [{"type": "Failed", "status": "True"}]}
    kube_api.put(job)
    assert pipeline.status(MODEL, run.run_id).status == "failed"


def test_forbidden_is_one_failed_line_naming_the_permission(
    flow: RemediationWorkflow,
    kube_api: KubeApi,  # noqa: F811
) -> None:
    proposal = flow.propose("INC-1", RETRAIN, requested_by="cli:alice", source="cli").proposal
    kube_api.fail("POST", 403, times=2)
    outcome = flow.approve(proposal.id, "cli:alice", proposal.digest)
    assert outcome.result.status is ToolStatus.FAILED
    assert "\n" not in outcome.result.summary
    assert outcome.result.summary.startswith("retrain on shop/recommender failed: create job")
    assert "lacks this permission (see docker/rbac.yaml)" in outcome.result.summary
    assert jobs(kube_api) == {}


def test_a_model_without_a_job_template_is_said(
    flow: RemediationWorkflow,
    kube_api: KubeApi,  # noqa: F811
) -> None:
    configuration = k8s.Configuration(host=kube_api.url)
    none = KubeJobPipeline(k8s.ApiClient(configuration), {})
    flow.backends = replace(flow.backends, training=none)
    flow.executor = Executor(flow.proposals, flow.guard, flow.backends, flow.clock, flow.audit)
    outcome = flow.propose("INC-1", RETRAIN, requested_by="cli:alice", source="cli")
    assert outcome.result.status is ToolStatus.REFUSED
    assert "no training job for model 'recommender-ranker' in the policy's training_jobs" in (
        outcome.result.summary
    )


def test_job_names_are_valid_and_distinct_whatever_the_model_is_called() -> None:
    names = {job_name(m, "a1b2c3d4e5f6") for m in ("Recommender Ranker", "recommender-ranker")}
    assert len(names) == 2
    for name in names | {job_name("<@U123> " + "x" * 300, "")}:
        assert len(name) <= 63 and name.replace("-", "").isalnum() and name.islower()


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ({"backoffLimit": 1}, "needs template:"),
        ({"template": {"spec": {"x": "y" * 70_000}}}, "at most 65536 are allowed"),
    ],
)
def test_the_policy_refuses_a_template_that_is_not_a_bounded_job(
    tmp_path: Path, template: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "policy.yaml"
    jobs_entry = {MODEL: {"namespace": "ml-training", "template": template}}
    path.write_text(json.dumps({"training_jobs": jobs_entry}))
    with pytest.raises(PolicyError, match=problem):
        load_policy(path)


def test_the_training_role_grants_exactly_what_retrain_asks(
    pipeline: KubeJobPipeline,
    kube_api: KubeApi,  # noqa: F811
) -> None:
    run = pipeline.start(MODEL, dry_run=True)
    run = pipeline.start(MODEL, reference="a1b2c3d4e5f6")
    pipeline.status(MODEL, run.run_id)
    verbs = {"POST": "create", "GET": "get"}
    used = {
        (r.resource.group, r.resource.plural, verbs[r.method.value], r.namespace)
        for r in list(kube_api.emulator)
    }
    path = Path(__file__).parents[2] / "docker" / "rbac.yaml"
    [role] = [
        d
        for d in yaml.safe_load_all(path.read_text())
        if d["kind"] == "Role" and d["metadata"]["name"] == "medic-training"
    ]
    granted = {
        (group, resource, verb, role["metadata"]["namespace"])
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert used == granted
