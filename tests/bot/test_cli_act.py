"""`medic act` and `medic audit` as an operator uses them: the same guard as Slack, exit codes
0 done / 2 bad input / 3 refused / 4 failed, and an audit log that notices tampering."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bot.cli.app import app
from tests.services import k8s_objects as objects
from tests.services.alertmanager import Alertmanager, running_alertmanager
from tests.services.kube import DEPLOYMENTS, KubeApi, kube_api  # noqa: F401  (fixture)
from tests.services.redis import redis_url  # noqa: F401  (fixture)


def medic(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def act(*args: str) -> tuple[int, str, str]:
    return medic("act", *args, "--cluster", "sim")


def test_scaling_within_policy_is_done() -> None:
    code, out, err = act("scale", "--target", "shop/recommender", "--param", "replicas=6", "--yes")
    assert code == 0, err
    assert out.splitlines()[-1] == "scaled deployment shop/recommender: 3 -> 6 replicas"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("scale", "--target", "shop/recommender", "--param", "replicas=500", "--yes"),
            3,
            "refused by policy (replicas.max): 500 replicas is above the ceiling of 10",
        ),
        (
            ("restart", "--target", "kube-system/coredns", "--yes"),
            3,
            "refused by policy (namespaces): namespace kube-system",
        ),
        (
            ("scale", "--target", "kube-system/coredns", "--param", "replicas=2", "--dry-run"),
            3,
            "(namespaces)",
        ),
        (
            (
                "purge_cache",
                "--target",
                "shop/recommender",
                "--param",
                "pattern=session:*",
                "--yes",
            ),
            3,
            "(cache_prefixes)",
        ),
        (("scale", "--target", "shop/recommender", "--param", "replicas=many"), 2, "(parameters)"),
        (("scale", "--target", "shop/billing", "--param", "replicas=2"), 3, "(workloads)"),
        (
            ("scale", "--target", "recommender", "--param", "replicas=2"),
            2,
            "--target must be NAMESPACE/NAME",
        ),
        (
            ("scale", "--target", "shop/recommender", "--param", "replicas"),
            2,
            "--param must be key=value",
        ),
        (("reboot", "--target", "shop/recommender"), 2, "unknown tool 'reboot'"),
    ],
)
def test_refusals_and_bad_input_are_one_line_with_their_exit_code(
    args: tuple[str, ...], code: int, message: str
) -> None:
    got, _, err = act(*args)
    assert got == code
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_dry_run_shows_what_would_happen_and_changes_nothing() -> None:
    code, out, _ = act("rollback", "--target", "shop/checkout", "--dry-run")
    assert code == 0
    assert out.strip() == (
        "dry run: roll back deployment shop/checkout from revision 7 "
        "(registry.example/shop/checkout:1.42.0) to revision 6 "
        "(registry.example/shop/checkout:1.41.0)"
    )


def test_without_yes_and_without_a_terminal_nothing_is_executed() -> None:
    code, out, _ = act("scale", "--target", "shop/recommender", "--param", "replicas=6")
    assert code == 0
    assert "not approved: nothing was executed" in out
    code, out, _ = medic("audit", "list", "--json")
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["proposed"]


def test_cli_user_outside_the_approvers_is_refused(tmp_path: Path) -> None:
    policy = yaml.safe_load(
        (Path(__file__).parents[2] / "tools" / "default_policy.yaml").read_text()
    )
    policy["approvers"] = [{"users": ["U-ONLY-SLACK"]}]
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    (tmp_path / "medic.yaml").write_text("policy: policy.yaml\n")
    os.environ["MEDIC_CONFIG"] = str(tmp_path / "medic.yaml")
    code, _, err = act("scale", "--target", "shop/recommender", "--param", "replicas=6", "--yes")
    assert code == 3 and "may not approve scale in shop" in err


def test_audit_list_and_verify_notice_an_edited_entry() -> None:
    act("scale", "--target", "shop/recommender", "--param", "replicas=6", "--yes")
    act("scale", "--target", "shop/recommender", "--param", "replicas=500", "--yes")
    code, out, _ = medic("audit", "list", "--json")
    entries = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [e["event"] for e in entries] == [
        "proposed",
        "approved",
        "started",
        "executed",
        "refused",
    ]
    assert entries[4]["decision"].startswith("refused by policy (replicas.max)")
    code, out, _ = medic("audit", "list")
    assert code == 0 and "executed" in out and "shop/recommender" in out
    code, out, _ = medic("audit", "verify")
    assert code == 0 and out.startswith("audit log intact: 5 entries, head ")

    db = Path(os.environ["MEDIC_DATA_DIR"]) / "medic.db"
    with create_engine(f"sqlite:///{db}").begin() as conn:
        conn.execute(text("UPDATE audit_log SET params = '{\"replicas\": 3}' WHERE seq = 3"))
    code, _, err = medic("audit", "verify")
    assert code == 1 and "entry 3 was modified after it was written" in err


def test_act_against_kubernetes_through_kubeconfig(
    kube_api: KubeApi,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube_api.put(objects.deployment("recommender"))
    monkeypatch.setenv("KUBECONFIG", str(kube_api.kubeconfig(tmp_path / "kubeconfig")))
    code, out, err = medic(
        "act",
        "scale",
        "--target",
        "shop/recommender",
        "--param",
        "replicas=5",
        "--yes",
        "--cluster",
        "kube",
    )
    assert code == 0, err
    assert out.splitlines()[-1] == "scaled deployment shop/recommender: 3 -> 5 replicas"
    assert kube_api.get(DEPLOYMENTS, "shop", "recommender")["spec"]["replicas"] == 5
    assert [r.params.get("dryRun") for r in kube_api.requests("PATCH")] == ["All", "All", None]
    assert {r.headers.get("Authorization") for r in kube_api.requests("PATCH")} == {"Bearer t0ken"}
    code, _, err = medic(
        "act",
        "purge_cache",
        "--target",
        "shop/recommender",
        "--param",
        "pattern=recommender:*",
        "--yes",
        "--cluster",
        "kube",
    )
    # a dry run that fails is "not done" (exit 4), not a policy verdict (exit 3)
    assert code == 4 and "medic: not done: the dry run of purge_cache failed: no Redis" in err
    assert "no Redis configured; set MEDIC_REDIS_URL" in err
    kube_api.fail("PATCH", 403, times=2)
    code, _, err = medic(
        "act",
        "restart",
        "--target",
        "shop/recommender",
        "--yes",
        "--cluster",
        "kube",
    )
    assert code == 4 and "not done: the dry run of restart failed" in err
    assert "lacks this permission" in err and "refused by policy" not in err


def test_kube_without_credentials_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    code, _, err = medic("act", "restart", "--target", "shop/x", "--cluster", "kube")
    assert code == 2 and "no Kubernetes credentials" in err


def firing(namespace: str, service: str, alertname: str) -> dict[str, Any]:
    labels = {"alertname": alertname, "namespace": namespace, "service": service}
    return {"labels": labels, "annotations": {"summary": f"{alertname} on {service}"}}


SHOP_ALERTS = [
    firing("shop", "recommender", "RecommenderLatencyHigh"),
    firing("shop", "recommender", "X"),
    firing("shop", "checkout", "X"),
    firing("shop-staging", "recommender", "X"),
    firing("kube-system", "coredns", "CoreDNSDown"),
]


def suppressed(alertmanager: Alertmanager) -> set[tuple[str, str, str]]:
    alerts = httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=10).json()
    return {
        (a["labels"]["namespace"], a["labels"]["service"], a["labels"]["alertname"])
        for a in alerts
        if a["status"]["state"] == "suppressed"
    }


def test_a_silence_reaches_only_its_targets_alerts_in_a_real_alertmanager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: `matchers={namespace: kube-system}` silenced every kube-system alert and
    `matchers={alertname: X}` X in every namespace; both exited 0."""
    with running_alertmanager(tmp_path) as alertmanager:
        alertmanager.post_alerts(SHOP_ALERTS)
        monkeypatch.setenv("MEDIC_ALERTMANAGER_URL", alertmanager.url)
        silence = (
            "silence",
            "--target",
            "shop/recommender",
            "--param",
            "duration_minutes=60",
            "--yes",
        )
        for matchers in ("{namespace: kube-system}", "{alertname: X}", "{namespace: shop}"):
            code, _, err = act(*silence, "--param", f"matchers={matchers}")
            assert code == 3 and "refused by policy (silence.scope)" in err, err
        assert httpx.get(f"{alertmanager.url}/api/v2/silences", timeout=10).json() == []
        assert suppressed(alertmanager) == set()

        code, out, err = act(
            *silence, "--param", "matchers={namespace: shop, service: recommender}"
        )
        assert code == 0, err
        assert "silenced alerts {namespace=shop, service=recommender}" in out
        assert suppressed(alertmanager) == {
            ("shop", "recommender", "RecommenderLatencyHigh"),
            ("shop", "recommender", "X"),
        }
    events = [json.loads(line) for line in medic("audit", "list", "--json")[1].splitlines()]
    assert [e["event"] for e in events] == ["refused"] * 3 + [
        "proposed",
        "approved",
        "started",
        "executed",
    ]
    assert all("silence.scope" in e["decision"] for e in events[:3])


def test_a_silence_on_kube_needs_no_kubernetes_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: `medic act silence --cluster kube` demanded Kubernetes credentials although it
    only talks to Alertmanager. Tools that do touch the cluster still need them."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with running_alertmanager(tmp_path) as alertmanager:
        alertmanager.post_alerts(SHOP_ALERTS)
        monkeypatch.setenv("MEDIC_ALERTMANAGER_URL", alertmanager.url)
        code, out, err = medic(
            "act",
            "silence",
            "--target",
            "shop/recommender",
            "--param",
            "matchers={namespace: shop, service: recommender, alertname: X}",
            "--param",
            "duration_minutes=30",
            "--yes",
            "--cluster",
            "kube",
        )
        assert code == 0, err
        assert out.splitlines()[-1].startswith("silenced alerts {alertname=X, namespace=shop")
        assert suppressed(alertmanager) == {("shop", "recommender", "X")}
        code, _, err = medic(
            "act", "silence", "--target", "shop/recommender", "--param",
            "matchers={alertname: X}", "--param", "duration_minutes=30", "--yes",
            "--cluster", "kube",
        )  # fmt: skip
        assert code == 3 and "(silence.scope)" in err
    code, _, err = medic(
        "act", "scale", "--target", "shop/x", "--param", "replicas=2", "--cluster", "kube"
    )
    assert code == 2 and "no Kubernetes credentials" in err


def test_sim_uses_the_configured_redis_for_purge_cache(
    redis_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 11: with --cluster sim a purge preview showed the simulated cache although a real
    Redis was configured. The simulated cluster stays for the deployments."""
    client = redis.Redis.from_url(redis_url)
    client.mset({f"recommender:recs:u-{i}": "x" for i in range(7)} | {"checkout:cart:1": "y"})
    monkeypatch.setenv("MEDIC_REDIS_URL", redis_url)
    purge = ("purge_cache", "--target", "shop/recommender", "--param", "pattern=recommender:*")
    code, out, err = act(*purge, "--dry-run")
    assert code == 0, err
    assert out.startswith("dry run: delete 7 cache keys matching recommender:*")
    code, out, err = act(*purge, "--yes")
    assert code == 0 and out.splitlines()[-1].startswith("purged 7 cache keys"), err
    assert client.keys() == [b"checkout:cart:1"]
    code, out, _ = act("deployment_status", "--target", "shop/recommender")
    assert code == 0 and "deployment shop/recommender: 3/3 ready" in out  # still the simulation
