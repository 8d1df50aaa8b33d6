"""The clusters map from the command line and in the configuration: `medic investigate
--cluster-name`, `medic act --cluster-name` (required with a map), `medic audit list` naming the
cluster, and every bad map refused in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import load_settings
from bot.errors import ConfigError
from bot.wiring import Wiring
from tools.audit import AuditLog

POLICY = Path(__file__).parents[2] / "tools" / "default_policy.yaml"


def medic(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def two_clusters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    policy = yaml.safe_load(POLICY.read_text())
    policy["approvers"].append({"users": ["cli:*"]})
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    config = {
        "policy": "policy.yaml",
        "verification": {"delay_seconds": 0},
        "clusters": {"east": {"kind": "sim"}, "west": {"kind": "sim"}},
        "default_cluster": "east",
    }
    path = tmp_path / "medic.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("MEDIC_CONFIG", str(path))
    return path


def audit_lines() -> list[str]:
    code, out, err = medic("audit", "list", "--limit", "1000")
    assert code == 0, err
    return out.splitlines()


def test_investigate_in_a_named_cluster_and_the_audit_says_which(two_clusters: Path) -> None:
    code, out, err = medic(
        "investigate", "recommender", "--cluster-name", "west", "--yes", "--json"
    )
    assert code == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["proposals"], report
    lines = audit_lines()
    assert any(" west:shop/recommender " in line for line in lines), lines
    assert not any("east:" in line for line in lines)


def test_investigate_names_an_unknown_cluster_in_one_line(two_clusters: Path) -> None:
    code, _out, err = medic("investigate", "recommender", "--cluster-name", "<north>")
    assert code == 2
    assert "no cluster named '<north>' in the clusters map (known: east, west)" in err
    assert "Traceback" not in err


def test_the_map_and_the_single_cluster_setting_are_not_mixed(two_clusters: Path) -> None:
    code, _out, err = medic("investigate", "recommender", "--cluster", "sim")
    assert code == 2
    assert "set either cluster (one cluster) or clusters (several), not both" in err


def test_cluster_name_without_a_map_means_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _out, err = medic(
        "investigate", "recommender", "--cluster", "sim", "--cluster-name", "west"
    )
    assert code == 2 and "no clusters map is configured" in err


def test_act_needs_the_cluster_named_and_acts_there(two_clusters: Path) -> None:
    args = ("act", "scale", "--target", "shop/recommender", "--param", "replicas=4", "--yes")
    code, _out, err = medic(*args)
    assert code == 2
    assert "`medic act` needs --cluster-name (one of: east, west)" in err

    code, out, err = medic(*args, "--cluster-name", "west")
    assert code == 0, err
    assert "3 -> 4 replicas" in out
    lines = audit_lines()
    assert any("executed" in line and " west:shop/recommender " in line for line in lines)


def test_an_edited_cluster_in_the_audit_log_is_found(two_clusters: Path) -> None:
    medic("act", "scale", "--target", "shop/recommender", "--param", "replicas=4", "--yes",
          "--cluster-name", "west")  # fmt: skip
    engine = Wiring(load_settings()).engine
    assert AuditLog(engine).verify().ok
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET cluster = 'east' WHERE cluster = 'west'"))
    report = AuditLog(engine).verify()
    assert not report.ok and "was modified after it was written" in report.problems[0]


@pytest.mark.parametrize(
    ("clusters", "default", "problem"),
    [
        ({"east": {"kind": "sim"}}, None, "clusters needs default_cluster"),
        ({"east": {"kind": "sim"}}, "west", "default_cluster west is not in clusters (east)"),
        ({"Prod_EU": {"kind": "sim"}}, None, "clusters.Prod_EU"),
        ({"east": {"kind": "sim", "context": "c"}}, "east", "a sim cluster has no kubeconfig"),
        ({"east": {"in_cluster": True, "context": "c"}}, "east", "two different clusters"),
        ({"east": {"kind": "kube", "scenario": "x"}}, "east", "scenario is for kind: sim"),
        ({"east": {"kind": "sim", "bogus": 1}}, "east", "clusters.east.bogus"),
    ],
)
def test_a_bad_clusters_map_is_one_line(
    clusters: dict[str, Any], default: str | None, problem: str
) -> None:
    with pytest.raises(ConfigError, match="invalid configuration") as refused:
        load_settings(clusters=clusters, default_cluster=default)
    assert problem in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_bad_cluster_label_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="cluster_label"):
        load_settings(
            cluster_label="clu ster", clusters={"a": {"kind": "sim"}}, default_cluster="a"
        )


def test_the_demo_runs_on_its_own_shop_beside_a_clusters_map(two_clusters: Path) -> None:
    code, out, err = medic("demo", "--yes", "--json")
    assert code == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert any(p["status"] == "succeeded" for p in report["proposals"])
