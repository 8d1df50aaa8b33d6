"""What can be checked of docker/ without Docker or a cluster: the Kubernetes manifests against
the official client's models (every field known, required fields present), the configuration
they carry as Medic would load it, the compose file's structure and wiring, Prometheus's and
Alertmanager's configs with their own checkers, and the Dockerfile's pins."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from kubernetes.client import ApiClient

from bot.config import Settings, load_settings
from tests.services.binaries import require
from tools.policy import load_policy

ROOT = Path(__file__).parents[2]
DOCKER = ROOT / "docker"
MANIFESTS = [DOCKER / "rbac.yaml", *sorted((DOCKER / "kubernetes").glob("*.yaml"))]
COMPOSE_SERVICE_KEYS = {
    "build", "image", "command", "entrypoint", "environment", "env_file", "volumes", "ports",
    "depends_on", "healthcheck", "restart", "user", "working_dir", "labels", "networks",
}  # fmt: skip
STACK = {"medic", "chroma", "prometheus", "alertmanager", "redis", "postgres"}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def model_name(doc: dict[str, Any]) -> str:
    """V1Deployment for apps/v1 Deployment, V1Role for rbac.authorization.k8s.io/v1 Role..."""
    version = doc["apiVersion"].rsplit("/", 1)[-1]
    return version.capitalize() + doc["kind"]


def kubernetes_objects() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}: {doc['kind']} {doc['metadata']['name']}", doc)
        for path in MANIFESTS
        for doc in documents(path)
    ]


OBJECTS = kubernetes_objects()


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in OBJECTS if doc["kind"] == kind]


@pytest.mark.parametrize("doc", [d for _, d in OBJECTS], ids=[w for w, _ in OBJECTS])
def test_every_manifest_is_a_valid_kubernetes_object(doc: dict[str, Any]) -> None:
    """Read through the client's model (required fields checked) and written back: a field the
    API does not know is dropped on the way, so any difference is a typo or a misplaced key."""
    api = ApiClient()
    obj = api.deserialize(json.dumps(doc), model_name(doc), "application/json")
    assert api.sanitize_for_serialization(obj) == doc


def test_the_bot_runs_as_the_service_account_its_roles_are_bound_to() -> None:
    [account] = by_kind("ServiceAccount")
    [deployment] = [d for d in by_kind("Deployment") if d["metadata"]["name"] == "medic"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert deployment["metadata"]["namespace"] == account["metadata"]["namespace"]
    roles = {r["metadata"]["name"] for r in by_kind("Role")}
    for binding in by_kind("RoleBinding"):
        assert binding["roleRef"]["name"] in roles
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "medic", "namespace": "medic"}
        ]
    [container] = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True


def env_settings_name(name: str) -> bool:
    """Whether an environment variable is one Medic reads (MEDIC_X__Y is field x, then y)."""
    if name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "KUBECONFIG"):
        return True
    if not name.startswith("MEDIC_"):
        return False
    model: Any = Settings
    for part in name.removeprefix("MEDIC_").lower().split("__"):
        field = model.model_fields.get(part)
        if field is None:
            return False
        model = field.annotation
    return True


def test_the_deployment_loads_as_medic_would_from_its_config_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap kustomize generates from docker/config/, mounted where MEDIC_CONFIG says,
    with the Deployment's environment and the Secret's keys: valid settings and policy."""
    kustomization = yaml.safe_load((DOCKER / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DOCKER / resource).is_file(), resource
    [generated] = kustomization["configMapGenerator"]
    [deployment] = [d for d in by_kind("Deployment") if d["metadata"]["name"] == "medic"]
    pod = deployment["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if "configMap" in v]
    assert volume["configMap"]["name"] == generated["name"]
    [container] = pod["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    mounted = tmp_path / mount["mountPath"].lstrip("/")
    mounted.mkdir(parents=True)
    for file in generated["files"]:
        (mounted / Path(file).name).write_text((DOCKER / file).read_text())

    env = {e["name"]: e["value"] for e in container["env"]}
    secret = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "MEDIC_WEBHOOK__TOKEN": "t",
        "MEDIC_DATABASE_URL": "postgresql+psycopg://medic@db/medic",
    }
    unknown = [n for n in [*env, *secret] if n != "HOME" and not env_settings_name(n)]
    assert unknown == []
    for name, value in {**env, **secret}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / env["MEDIC_CONFIG"].lstrip("/")))
    settings = load_settings()
    assert settings.cluster == "kube" and settings.metrics.prometheus_url
    assert settings.policy is not None and load_policy(settings.policy).approvers
    chroma = urlparse(env["MEDIC_CHROMA_URL"])
    [service] = [s for s in by_kind("Service") if s["metadata"]["name"] == "chroma"]
    assert chroma.hostname == f"chroma.{service['metadata']['namespace']}.svc"
    assert chroma.port == service["spec"]["ports"][0]["port"]


def env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and line[0] != "#"]
    return dict(line.split("=", 1) for line in lines)


def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_runs_the_whole_stack_wired_by_service_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == STACK
    for name, service in services.items():
        assert set(service) <= COMPOSE_SERVICE_KEYS, name
        assert set(service.get("depends_on", {})) <= STACK - {name}
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert source == "./kube" or (DOCKER / source).exists(), source
            else:
                assert source in spec["volumes"], source

    medic = services["medic"]
    environment = medic["environment"]
    assert environment["MEDIC_CLUSTER"].startswith("${MEDIC_CLUSTER:?")  # never chosen silently
    example = env_file(DOCKER / "medic.env.example")
    assert medic["env_file"] == "medic.env"
    assert [n for n in [*environment, *example] if not env_settings_name(n)] == []
    for name in ("MEDIC_CHROMA_URL", "MEDIC_REDIS_URL", "MEDIC_METRICS__PROMETHEUS_URL"):
        assert urlparse(environment[name]).hostname in services, name
    assert urlparse(environment["MEDIC_DATABASE_URL"].replace("${", "")).hostname == "postgres"

    interpolated = {
        name: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value) for name, value in environment.items()
    }
    interpolated["MEDIC_CLUSTER"] = "kube"
    for name, value in {**interpolated, **example}.items():
        monkeypatch.setenv(name, value)
    config_dir = next(v for v in medic["volumes"] if v.startswith("./config:")).split(":")[1]
    assert interpolated["MEDIC_CONFIG"] == f"{config_dir}/medic.yaml"
    monkeypatch.setenv("MEDIC_CONFIG", str(DOCKER / "config" / "medic.yaml"))
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://medic:medic@postgres:5432/medic"
    assert settings.webhook.token is not None


def test_prometheus_and_alertmanager_configs_pass_their_own_checks() -> None:
    promtool = require("promtool", "prometheus")
    amtool = require("amtool", "prometheus-alertmanager")
    for command in (
        [promtool, "check", "config", str(DOCKER / "prometheus" / "prometheus.yml")],
        [amtool, "check-config", str(DOCKER / "alertmanager" / "alertmanager.yml")],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_posts_to_medic_with_the_webhook_token() -> None:
    config = yaml.safe_load((DOCKER / "alertmanager" / "alertmanager.yml").read_text())
    [receiver] = config["receivers"]
    [hook] = receiver["webhook_configs"]
    url = urlparse(hook["url"])
    assert (url.hostname, url.path) == ("medic", "/alertmanager")
    assert f"{url.port}:{url.port}" in compose()["services"]["medic"]["ports"]
    token = hook["http_config"]["authorization"]["credentials"]
    assert env_file(DOCKER / "medic.env.example")["MEDIC_WEBHOOK__TOKEN"] == token


def test_the_image_installs_the_pinned_cpu_torch_and_every_package() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [torch] = [d for d in project["project"]["dependencies"] if d.startswith("torch")]
    assert f"--index-url https://download.pytorch.org/whl/cpu {torch}" in dockerfile
    packages = {
        p.removesuffix("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.MULTILINE))
    assert copied == packages
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
    sent = {line[1:] for line in ignore if line.startswith("!")}
    assert sent == packages | {"pyproject.toml", "README.md"}  # the context holds what is copied
    assert "MiniLMEmbedding().warm_up()" in dockerfile  # the model loads at build, offline
    assert "HF_HUB_OFFLINE=1" in dockerfile and "TRANSFORMERS_OFFLINE=1" in dockerfile
    assert re.search(r"^USER 10001$", dockerfile, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["medic"]' in dockerfile
