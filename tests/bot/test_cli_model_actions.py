"""`medic act promote_model` and `medic act retrain` as an operator uses them: through the same
guard, approval and audit log as Slack; exit 0 done, 2 bad input, 3 refused, one line each."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli.app import app
from bot.wiring.process import Wiring
from tests.services import k8s_objects as objects
from tests.services.kube import JOBS, KubeApi, kube_api  # noqa: F401  (fixture)
from tools.backends import Backends
from tools.registry import MemoryRegistry

MODEL = "recommender-ranker"
TEMPLATE: dict[str, Any] = {
    "backoffLimit": 1,
    "template": {
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "train", "image": "registry.example.com/ml/train:1"}],
        }
    },
}


def medic(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> MemoryRegistry:
    """The registry the CLI's backends use (the simulated shop's is wired by the registry part;
    here an in-memory one with versions 1-3, champion on 3)."""
    registry = MemoryRegistry()
    for _ in range(3):
        registry.register(MODEL)
    registry.set_alias(MODEL, "champion", "3")
    original = Wiring.backends

    def backends(self: Wiring, *args: Any, **kwargs: Any) -> Backends:
        return replace(original(self, *args, **kwargs), registry=registry)

    monkeypatch.setattr(Wiring, "backends", backends)
    return registry


def test_promote_model_moves_the_alias_through_the_guard(registry: MemoryRegistry) -> None:
    code, out, err = medic(
        "act",
        "promote_model",
        "--target",
        "shop/recommender",
        "--param",
        f"model={MODEL}",
        "--param",
        "version=2",
        "--yes",
        "--cluster",
        "sim",
    )
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "moved alias champion of model recommender-ranker from version 3 to version 2 "
        "(served by shop/recommender; reversible: promote 3 again)"
    )
    assert registry.alias(MODEL, "champion").version == "2"  # type: ignore[union-attr]
    code, out, _ = medic("audit", "list", "--json")
    executed = [json.loads(line) for line in out.splitlines()][-1]
    assert executed["event"] == "executed"
    assert executed["params"] == {
        "model": MODEL,
        "alias": "champion",
        "version": "2",
        "from_version": "3",
    }


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (["model=fraud-scorer"], 3, "refused by policy (models): model 'fraud-scorer'"),
        ([f"model={MODEL}", "version=two words"], 2, "(parameters)"),
        ([f"model={MODEL}", "alias=<!channel>"], 2, "(parameters)"),
        (["model="], 2, "(parameters)"),
        # something named that does not exist is the command line's mistake, not a policy verdict
        ([f"model={MODEL}", "version=9"], 2, "not done: version 9 of recommender-ranker does not"),
    ],
)
def test_refusals_and_bad_input_are_one_line(
    registry: MemoryRegistry, params: list[str], code: int, message: str
) -> None:
    args = [a for p in params for a in ("--param", p)]
    got, _, err = medic(
        "act", "promote_model", "--target", "shop/recommender", *args, "--yes", "--cluster", "sim"
    )
    assert got == code, err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert registry.alias(MODEL, "champion").version == "3"  # type: ignore[union-attr]


def test_retrain_on_kubernetes_creates_the_policys_job(
    kube_api: KubeApi,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube_api.put(objects.deployment("recommender"))
    monkeypatch.setenv("KUBECONFIG", str(kube_api.kubeconfig(tmp_path / "kubeconfig")))
    policy = yaml.safe_load(
        (Path(__file__).parents[2] / "tools" / "default_policy.yaml").read_text()
    )
    policy["training_jobs"] = {
        MODEL: {
            "namespace": "ml-training",
            "minutes": 30,
            "cost": "4 GPU-hours",
            "template": TEMPLATE,
        }
    }
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    (tmp_path / "medic.yaml").write_text("policy: policy.yaml\n")
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "medic.yaml"))

    code, out, err = medic(
        "act", "retrain", "--target", "shop/recommender", "--param", f"model={MODEL}",
        "--dry-run", "--cluster", "kube",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == (
        "dry run: start a training run of model recommender-ranker on recent data "
        "(about 30 min, 4 GPU-hours)"
    )
    code, out, err = medic(
        "act", "retrain", "--target", "shop/recommender", "--param", f"model={MODEL}",
        "--yes", "--cluster", "kube",
    )  # fmt: skip
    assert code == 0, err
    created = [
        dict(obj.raw) for (kind, _, _), obj in kube_api.emulator.objects.items() if kind == JOBS
    ]
    [job] = created
    assert job["metadata"]["namespace"] == "ml-training" and job["spec"] == TEMPLATE
    assert out.splitlines()[-1].startswith(
        f"started training run {job['metadata']['name']} of model recommender-ranker"
    )


def test_a_registry_that_is_down_is_not_done_not_a_policy_refusal(
    kube_api: KubeApi,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real MLflow client against a port nothing listens on: the dry run and the proposal
    both say the registry could not be reached, exit 4 (not 3, a policy verdict), and the audit
    log records the same words."""
    import socket

    with socket.socket() as s:  # a free port, closed again: nothing answers there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kube_api.put(objects.deployment("recommender"))
    monkeypatch.setenv("KUBECONFIG", str(kube_api.kubeconfig(tmp_path / "kubeconfig")))
    monkeypatch.setenv("MEDIC_REGISTRY__TRACKING_URI", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MEDIC_REGISTRY__TIMEOUT_SECONDS", "2")
    base = ["act", "promote_model", "--target", "shop/recommender", "--param", f"model={MODEL}"]
    said = f"medic: not done: the model registry could not be reached (mlflow at http://127.0.0.1:{port}"
    for extra in (["--dry-run"], ["--yes"]):
        code, _, err = medic(*base, *extra, "--cluster", "kube")
        assert code == 4, err
        assert err.startswith(said) and len(err.strip().splitlines()) == 1
        assert "refused by policy" not in err
    code, out, _ = medic("audit", "list", "--json")
    entries = [json.loads(line) for line in out.splitlines()]
    decisions = [e["decision"] for e in entries if e["tool"] == "promote_model"]
    assert len(decisions) == 2
    assert all(d.startswith("not done: the model registry could not be reached") for d in decisions)
    assert [e["event"] for e in entries if e["tool"] == "promote_model"] == ["dry_run", "refused"]
