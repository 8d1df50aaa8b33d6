"""The policy rules, one case per rule: what is allowed, and what is refused with which rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.actions import Action
from tools.errors import PolicyError
from tools.guard import Guard
from tools.policy import Policy, load_policy
from tools.sim import SimulatedCluster


@pytest.mark.parametrize(
    ("action", "allowed", "rule"),
    [
        (Action("scale", "shop", "recommender", {"replicas": 6}), True, "allowed"),
        (Action("scale", "shop", "recommender", {"replicas": 9}), True, "allowed"),
        (Action("scale", "shop", "recommender", {"replicas": 500}), False, "replicas.max"),
        (Action("scale", "shop", "recommender", {"replicas": 0}), False, "replicas.min"),
        (Action("scale", "shop", "recommender", {"replicas": 10}), False, "max_scale_factor"),
        (Action("scale", "shop", "frontend", {"replicas": 1}), False, "max_scale_factor"),
        (Action("scale", "kube-system", "coredns", {"replicas": 0}), False, "namespaces"),
        (Action("restart", "kube-system", "coredns", {}), False, "namespaces"),
        (Action("scale", "shop", "payments", {"replicas": 2}), False, "target"),
        (Action("scale", "shop", "recommender", {"replicas": "many"}), False, "parameters"),
        (Action("scale", "shop", "recommender", {"replicas": 4, "x": 1}), False, "parameters"),
        (
            Action("purge_cache", "shop", "recommender", {"pattern": "recommender:*"}),
            True,
            "allowed",
        ),
        (Action("purge_cache", "shop", "recommender", {"pattern": "*:*"}), False, "cache_prefixes"),
        (
            Action("purge_cache", "shop", "recommender", {"pattern": "session:*"}),
            False,
            "cache_prefixes",
        ),
        (Action("restart", "shop", "checkout", {}), True, "allowed"),
        (Action("rollback", "shop", "checkout", {}), True, "allowed"),
        (Action("delete_namespace", "shop", "checkout", {}), False, "unknown_tool"),
    ],
)
def test_policy_rules(sim: SimulatedCluster, action: Action, allowed: bool, rule: str) -> None:
    decision = Guard(load_policy(), sim).check(action)
    assert (decision.allowed, decision.rule) == (allowed, rule)
    assert decision.reason


def test_tool_missing_from_policy_is_refused(sim: SimulatedCluster) -> None:
    policy = Policy(namespaces=["shop"], tools=["scale"])
    decision = Guard(policy, sim).check(Action("restart", "shop", "checkout", {}))
    assert (decision.allowed, decision.rule) == (False, "tools")


def test_refusal_names_the_ceiling(sim: SimulatedCluster) -> None:
    decision = Guard(load_policy(), sim).check(
        Action("scale", "shop", "recommender", {"replicas": 500})
    )
    assert "ceiling of 10" in decision.reason


def test_policy_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("replicas: {min: 5, max: 2}\n")
    with pytest.raises(PolicyError, match="invalid policy"):
        load_policy(bad)
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.yaml")
