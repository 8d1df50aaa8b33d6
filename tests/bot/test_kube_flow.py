"""Medic on `cluster: kube`, run as a user would: `medic investigate ... --cluster kube` and
`medic serve --cluster kube` against kmock as the Kubernetes API (reached through a kubeconfig),
a real Prometheus holding the shop's metrics, a real Redis, and the state in PostgreSQL with the
memory in a Chroma server. What is missing or unreachable is named, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml
from typer.testing import CliRunner

from bot.cli.app import app
from tests.bot.kube_shop import (
    NAMESPACE,
    SERVICE,
    put_shop,
    shop_openmetrics,
    write_config,
    write_kubeconfig,
)
from tests.bot.slack.fake_slack import FakeSlack
from tests.services.binaries import free_port
from tests.services.chroma import chroma_url  # noqa: F401  (fixture)
from tests.services.kube import DEPLOYMENTS, KubeApi, kube_api  # noqa: F401  (fixture)
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tests.services.prometheus import running_prometheus
from tests.services.redis import redis_url  # noqa: F401  (fixture)

RBAC = Path(__file__).parents[2] / "docker" / "rbac.yaml"
ALERTS = "C0ALERTS"
WEBHOOK_TOKEN = "am-token"


def medic(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def summary(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus holding the shop's last two hours, the surge in the last minutes."""
    with running_prometheus(
        tmp_path_factory.mktemp("prometheus"), shop_openmetrics(time.time())
    ) as url:
        yield url


@pytest.fixture
def shop(
    kube_api: KubeApi,  # noqa: F811
    prometheus: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> KubeApi:
    """The shop in kmock, reached through a kubeconfig; MEDIC_CONFIG names Prometheus."""
    put_shop(kube_api, time.time())
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", kube_api.url)))
    config = write_config(tmp_path / "medic.yaml", metrics={"prometheus_url": prometheus})
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    return kube_api


def alertmanager_payload(minutes_ago: float) -> dict[str, Any]:
    """Alertmanager's webhook (v4) for the shop's latency alert, firing since ``minutes_ago``."""
    labels = {"alertname": "RecommenderLatencyHigh", "service": SERVICE, "namespace": NAMESPACE}
    annotations = {"summary": "recommender p95 latency above 300 ms"}
    starts = datetime.fromtimestamp(time.time() - 60 * minutes_ago, UTC).isoformat()
    return {
        "version": "4",
        "groupKey": '{}:{alertname="RecommenderLatencyHigh"}',
        "status": "firing",
        "receiver": "medic",
        "groupLabels": {"alertname": labels["alertname"]},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": starts,
                "fingerprint": "4f1c2a9b7e3d5a10",
            }
        ],
    }


def scale_patches(api: KubeApi) -> list[str | None]:
    """The dryRun parameter of every PATCH of the scale subresource, in order."""
    return [r.params.get("dryRun") for r in api.requests("PATCH") if r.subresource == "scale"]


def granted_by_rbac() -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for doc in yaml.safe_load_all(RBAC.read_text())
        if doc["kind"] == "Role"
        for rule in doc["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def used_by_medic(api: KubeApi) -> set[tuple[str, str, str]]:
    used = set()
    for request in list(api.emulator):
        verb = {"GET": "get" if request.name else "list", "PATCH": "patch"}[request.method.value]
        sub = f"/{request.subresource}" if request.subresource else ""
        used.add((request.resource.group, request.resource.plural + sub, verb))
    return used


@pytest.mark.slow
def test_investigate_propose_and_approve_on_kubernetes(
    shop: KubeApi,
    redis_url: str,  # noqa: F811
    postgres_url: str,  # noqa: F811
    chroma_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIC_REDIS_URL", redis_url)
    monkeypatch.setenv("MEDIC_DATABASE_URL", postgres_url)
    monkeypatch.setenv("MEDIC_CHROMA_URL", chroma_url)
    cache = redis.Redis.from_url(redis_url)
    cache.mset({f"recommender:user:{i}": "x" * 100 for i in range(40)} | {"checkout:cart:1": "y"})

    # Not on a terminal, without --yes: findings, logs, causes and proposals; nothing changes.
    code, out, err = medic("investigate", SERVICE, "--cluster", "kube", "--json")
    assert code == 0, err
    report = summary(out)
    assert report["notes"] == []
    assert {"latency_p95_ms", "request_payload_bytes", "cache_memory_bytes"} <= set(
        report["anomalies"]
    )
    assert "request_rate" not in report["anomalies"]
    assert any("payload" in t and "exceeds soft limit" in t for t in report["log_templates"])
    assert report["hypotheses"][0]["text"].startswith("Input size increase")
    proposed = {p["tool"]: p for p in report["proposals"]}
    assert set(proposed) == {"scale", "purge_cache"}
    assert {p["status"] for p in proposed.values()} == {"proposed"}
    assert proposed["scale"]["parameters"] == {"replicas": 6}
    assert proposed["scale"]["preview"] == "scale deployment shop/recommender: 3 -> 6 replicas"
    assert proposed["purge_cache"]["preview"].startswith("delete 40 cache keys matching")
    assert scale_patches(shop) == ["All"]  # the preview is Kubernetes' server-side dry run
    assert shop.get(DEPLOYMENTS, NAMESPACE, SERVICE)["spec"]["replicas"] == 3
    assert cache.dbsize() == 41

    # An Alertmanager notification, approved with --yes: scaled once, cache purged, re-checked.
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(alertmanager_payload(minutes_ago=8)))
    approve = ("investigate", "--alert", str(alert), "--cluster", "kube", "--yes", "--json")
    code, out, err = medic(*approve)
    assert code == 0, err
    report = summary(out)
    assert {p["tool"]: p["status"] for p in report["proposals"]} == {
        "scale": "succeeded",
        "purge_cache": "succeeded",
    }
    assert shop.get(DEPLOYMENTS, NAMESPACE, SERVICE)["spec"]["replicas"] == 6
    assert scale_patches(shop) == ["All", "All", "All", None]  # propose, execute: dry run first
    assert cache.keys("recommender:*") == [] and cache.get("checkout:cart:1") == b"y"
    assert report["verified"] is False  # Prometheus still shows the surge, and Medic says so
    assert "p95 latency" in err

    # The same alert again: the same incident; the cooldown keeps the scale from running twice.
    code, out, err = medic(*approve)
    assert code == 0, err
    assert summary(out)["incident_id"] == report["incident_id"]
    assert scale_patches(shop).count(None) == 1
    assert shop.get(DEPLOYMENTS, NAMESPACE, SERVICE)["spec"]["replicas"] == 6

    used = used_by_medic(shop)
    assert ("", "pods/log", "get") in used
    assert ("", "events", "list") in used  # the investigation's Kubernetes Events
    assert used <= granted_by_rbac()


@pytest.mark.slow
def test_serve_on_kubernetes_answers_health_and_threads_an_alert(
    shop: KubeApi, tmp_path: Path
) -> None:
    slack = FakeSlack()
    port = free_port()
    env = {
        **os.environ,
        "MEDIC_CLUSTER": "kube",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "MEDIC_ALERT_CHANNEL": ALERTS,
        "MEDIC_SLACK_API_URL": slack.api_url,
        "MEDIC_WEBHOOK__TOKEN": WEBHOOK_TOKEN,
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("medic")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
        try:
            return httpx.get(f"{url}/healthz", timeout=1).json()["status"] == "ok"
        except httpx.HTTPError:
            return False

    def diagnosis() -> list[str]:
        return [
            m.all_text()
            for root in slack.roots(ALERTS)
            for m in slack.thread(root.ts)
            if m.buttons()
        ]

    try:
        wait_for(healthy, "medic serve to answer /healthz")
        answer = httpx.post(
            f"{url}/alertmanager",
            json=alertmanager_payload(minutes_ago=8),
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        )
        assert answer.status_code == 200
        wait_for(lambda: bool(diagnosis()), "the diagnosis in the alert's thread")
        [text] = diagnosis()
        assert "request payload" in text and "3 -> 6 replicas" in text
        assert scale_patches(shop) == ["All"]  # proposed with its dry run, not executed
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        slack.close()


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "cluster kube reads its metrics from Prometheus: set metrics.prometheus_url"),
        (
            {"metrics": {"source": "cluster"}},
            "cluster kube has no metrics of its own",
        ),
        (
            {
                "metrics": {"prometheus_url": "http://127.0.0.1:9"},
                "database_url": "postgresql+psycopg://medic@127.0.0.1:9/medic",
            },
            "cannot connect to the state database 'postgresql+psycopg://127.0.0.1:9/medic'",
        ),
    ],
)
def test_missing_or_unreachable_settings_are_one_line(
    config: dict[str, Any], problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:9")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("MEDIC_CONFIG", str(write_config(tmp_path / "medic.yaml", **config)))
    code, _, err = medic("investigate", SERVICE, "--cluster", "kube")
    assert code == 2 and problem in err
    assert len(err.strip().splitlines()) == 1


def test_serve_names_the_missing_prometheus_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        "MEDIC_CLUSTER": "kube",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "MEDIC_ALERT_CHANNEL": ALERTS,
    }.items():
        monkeypatch.setenv(key, value)
    code, _, err = medic("serve")
    assert code == 2 and "set metrics.prometheus_url" in err


def test_an_unreachable_api_server_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", server)))
    config = write_config(tmp_path / "medic.yaml", metrics={"prometheus_url": server})
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    code, out, err = medic("investigate", SERVICE, "--cluster", "kube")
    assert code == 1 and err.strip() == (
        f"medic: cannot connect to the Kubernetes API at {server} to read deployment "
        "shop/recommender"
    )
    assert out == ""

    # acting on it is not a policy refusal nor bad input: the action could not be done (exit 4)
    code, out, err = medic(
        "act", "scale", "--target", f"shop/{SERVICE}", "--param", "replicas=4", "--cluster", "kube"
    )
    assert code == 4 and err.strip() == (
        f"medic: not done: cannot connect to the Kubernetes API at {server} to read deployment "
        "shop/recommender"
    )


@pytest.mark.slow
def test_an_unreachable_prometheus_is_a_note_and_the_logs_still_speak(
    shop: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {"metrics": {"prometheus_url": f"http://127.0.0.1:{free_port()}"}}
    monkeypatch.setenv("MEDIC_CONFIG", str(write_config(tmp_path / "medic.yaml", **config)))
    code, out, err = medic("investigate", SERVICE, "--cluster", "kube", "--json")
    assert code == 0, err
    report = summary(out)
    [note] = report["notes"]
    assert note.startswith("metrics unavailable, continuing without them") and "unreachable" in note
    assert report["anomalies"] == []
    assert any("exceeds soft limit" in t for t in report["log_templates"])
