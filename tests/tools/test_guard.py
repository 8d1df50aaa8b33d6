"""The policy rules, one case per rule: what is allowed, and what is refused with which rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.actions import Action, Principal
from tools.errors import PolicyError
from tools.guard import Guard
from tools.policy import Policy, load_policy
from tools.sim import SimulatedCluster

NOW = 1_800_000_000.0


class History:
    """When each (tool, target) last ran, as the proposal store would say."""

    def __init__(self, runs: dict[tuple[str, str], float] | None = None) -> None:
        self.runs = runs or {}

    def last_execution(self, action: Action, cluster: str) -> float | None:
        return self.runs.get((action.tool, action.target))


def guard(sim: SimulatedCluster, history: History | None = None, **changes: Any) -> Guard:
    policy = Policy.model_validate({**load_policy().model_dump(), **changes})
    return Guard(policy, sim, history or History())


def scale(replicas: Any, name: str = "recommender", namespace: str = "shop") -> Action:
    return Action("scale", namespace, name, {"replicas": replicas})


def purge(pattern: str) -> Action:
    return Action("purge_cache", "shop", "recommender", {"pattern": pattern})


PINNED = {"namespace": "shop", "service": "recommender"}


def silence(minutes: int, **matchers: str) -> Action:
    return Action(
        "silence",
        "shop",
        "recommender",
        {"matchers": matchers or {**PINNED, "alertname": "X"}, "duration_minutes": minutes},
    )


@pytest.mark.parametrize(
    ("action", "allowed", "rule"),
    [
        (scale(6), True, "allowed"),  # 3 -> 6
        (scale(9), True, "allowed"),  # 3 -> 9 = 3x, the largest step
        (scale(1), True, "allowed"),  # 3 -> 1 = /3, the floor
        (scale(500), False, "replicas.max"),
        (scale(11), False, "replicas.max"),
        (scale(0), False, "replicas.min"),
        (scale(10), False, "max_scale_factor"),  # 3 -> 10 is more than 3x
        (scale(1, "frontend"), False, "max_scale_factor"),  # 6 -> 1 is less than /3
        (scale(0, "coredns", "kube-system"), False, "namespaces"),
        (Action("restart", "kube-system", "coredns", {}), False, "namespaces"),
        (Action("restart", "default", "web", {}), False, "namespaces"),
        (scale(2, "billing"), False, "workloads"),
        (scale("many"), False, "parameters"),
        (scale(-1), False, "parameters"),
        (Action("scale", "shop", "recommender", {"replicas": 4, "x": 1}), False, "parameters"),
        (Action("scale", "shop", "recommender", {}), False, "parameters"),
        (purge("recommender:*"), True, "allowed"),
        (purge("recommender:recs:u-1*"), True, "allowed"),
        (purge("*:*"), False, "cache_prefixes"),
        (purge("session:*"), False, "cache_prefixes"),
        (purge("recommender*"), False, "cache_prefixes"),  # would match recommender-secrets:...
        (purge("[r]ecommender:*"), False, "cache_prefixes"),
        (silence(60, alertname="RecommenderLatencyHigh", **PINNED), True, "allowed"),
        (silence(240), True, "allowed"),
        (silence(241), False, "silence_max_minutes"),
        (silence(0), False, "parameters"),
        (
            Action("silence", "shop", "recommender", {"matchers": {}, "duration_minutes": 5}),
            False,
            "parameters",
        ),
        (Action("restart", "shop", "checkout", {}), True, "allowed"),
        (Action("rollback", "shop", "checkout", {}), True, "allowed"),
        (Action("deployment_status", "shop", "checkout", {}), True, "allowed"),
        (Action("pod_restarts", "kube-system", "coredns", {}), False, "namespaces"),
        (Action("delete_namespace", "shop", "checkout", {}), False, "unknown_tool"),
    ],
)
def test_policy_rules(sim: SimulatedCluster, action: Action, allowed: bool, rule: str) -> None:
    decision = guard(sim).check(action, NOW)
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason
    assert decision.reason


def test_unknown_target_in_an_unlisted_namespace_is_refused_as_target(
    sim: SimulatedCluster,
) -> None:
    decision = guard(sim, workloads={}).check(scale(2, "payments"), NOW)
    assert (decision.allowed, decision.rule) == (False, "target")
    assert "known: checkout, frontend, recommender" in decision.reason


def silence_of(matchers: Any, namespace: str = "shop", name: str = "recommender") -> Action:
    return Action("silence", namespace, name, {"matchers": matchers, "duration_minutes": 60})


@pytest.mark.parametrize(
    ("matchers", "rule", "says"),
    [
        # the reproductions of issue 11: every kube-system alert; X in every namespace
        ({"namespace": "kube-system"}, "silence.scope", "alerts in namespace kube-system"),
        ({"alertname": "X"}, "silence.scope", "alerts in every namespace"),
        ({"service": "recommender"}, "silence.scope", "in every namespace"),
        ({"namespace": "shop"}, "silence.scope", "other workloads' alerts in shop"),
        ({"namespace": "shop", "alertname": "X"}, "silence.scope", "must also match its workload"),
        ({"namespace": "shop", "service": "checkout"}, "silence.scope", "service=recommender"),
        ({"namespace": "shop ", "service": "recommender"}, "silence.scope", "namespace=shop;"),
        ({"Namespace": "shop", "service": "recommender"}, "silence.scope", "every namespace"),
        # operators and regexes cannot be spelled: a matcher name is a label name
        ({"namespace": "shop", "service=~": ".*"}, "parameters", "not a label name"),
        ({"namespace=~": ".*", "service": "recommender"}, "parameters", "no =~ or !="),
        ({"namespace!": "x", **PINNED}, "parameters", "not a label name"),
        # an empty value matches alerts *without* the label: never a pin, never accepted
        ({"namespace": "", "service": "recommender"}, "parameters", "1 to 1024 characters"),
        ({**PINNED, "app": ""}, "parameters", "1 to 1024 characters"),
        # Alertmanager's own matcher objects are not the parameter's shape
        (
            [{"name": "namespace", "value": "shop|kube-system", "isRegex": True}],
            "parameters",
            "dictionary",
        ),
        ({f"l{i}": "v" for i in range(17)} | PINNED, "parameters", "at most 16"),
        # a regex-looking value is a literal (isRegex false): it pins nothing else
        ({"namespace": "shop|kube-system", "service": "recommender"}, "silence.scope", "must"),
        ({"namespace": "shop", "service": ".*"}, "silence.scope", "must also match"),
        # pinned: extra matchers only narrow it, any workload label names the workload
        ({**PINNED, "alertname": "X", "severity": "page"}, "allowed", ""),
        ({"namespace": "shop", "app": "recommender"}, "allowed", ""),
        ({"namespace": "shop", "job": "recommender", "service": "other"}, "allowed", ""),
    ],
)
def test_a_silence_reaches_no_further_than_its_target(
    sim: SimulatedCluster, matchers: Any, rule: str, says: str
) -> None:
    decision = guard(sim).check(silence_of(matchers), NOW)
    assert decision.rule == rule, decision.reason
    assert says in decision.reason


def test_a_silence_refusal_quotes_its_matchers_briefly(sim: SimulatedCluster) -> None:
    huge = {f"label_{i}": "v" * 1024 for i in range(15)} | {"namespace": "kube-system"}
    decision = guard(sim).check(silence_of(huge), NOW)
    assert decision.rule == "silence.scope" and len(decision.reason) < 400


def test_a_platform_environment_may_allow_namespace_wide_silences(sim: SimulatedCluster) -> None:
    environments = {
        "production": {"namespaces": ["shop"], "tools": ["silence"], "silence_scope": "namespace"}
    }
    wide = guard(sim, environments=environments, auto_run=[])
    assert wide.check(silence_of({"namespace": "shop"}), NOW).allowed
    refused = wide.check(silence_of({"alertname": "X"}), NOW)
    assert (refused.rule, refused.allowed) == ("silence.scope", False)  # never across namespaces
    assert not guard(sim).check(silence_of({"namespace": "shop"}), NOW).allowed
    custom = guard(sim, silence_workload_labels=["workload"])
    assert custom.check(silence_of({"namespace": "shop", "workload": "recommender"}), NOW).allowed
    assert not custom.check(silence_of(PINNED), NOW).allowed


@pytest.mark.parametrize(
    ("environment_tools", "tool", "allowed"),
    [
        (["scale"], "scale", True),
        (["scale"], "restart", False),
        ([], "purge_cache", False),
        (["scale", "restart", "rollback", "purge_cache", "silence"], "rollback", True),
    ],
)
def test_tools_are_allowed_per_environment(
    sim: SimulatedCluster, environment_tools: list[str], tool: str, allowed: bool
) -> None:
    environments = {"production": {"namespaces": ["shop"], "tools": environment_tools}}
    params = {"scale": {"replicas": 4}, "purge_cache": {"pattern": "recommender:*"}}.get(tool, {})
    decision = guard(sim, environments=environments, auto_run=[]).check(
        Action(tool, "shop", "recommender", params), NOW
    )
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule == "tools" and "environment production" in decision.reason


@pytest.mark.parametrize(
    ("last_run_ago", "tool", "allowed"),
    [
        (None, "scale", True),
        (599, "scale", False),
        (601, "scale", True),
        (10, "purge_cache", True),  # another tool on the same target: its own cooldown
    ],
)
def test_cooldown_per_tool_and_target(
    sim: SimulatedCluster, last_run_ago: float | None, tool: str, allowed: bool
) -> None:
    runs = {} if last_run_ago is None else {("scale", "shop/recommender"): NOW - last_run_ago}
    params = {"scale": {"replicas": 4}, "purge_cache": {"pattern": "recommender:*"}}[tool]
    decision = guard(sim, History(runs)).check(Action(tool, "shop", "recommender", params), NOW)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule == "cooldown" and "wait 1 s more" in decision.reason


APPROVERS = [
    {"tools": ["scale", "restart"], "namespaces": ["shop"], "groups": ["S-SRE"]},
    {"tools": ["rollback"], "namespaces": ["shop*"], "users": ["U-LEAD"]},
    {"users": ["cli:*"]},
]


@pytest.mark.parametrize(
    ("tool", "who", "allowed"),
    [
        ("scale", Principal("U1", frozenset({"S-SRE"})), True),
        ("scale", Principal("U1", frozenset({"S-DEV"})), False),
        ("scale", Principal("U1"), False),
        ("rollback", Principal("U1", frozenset({"S-SRE"})), False),  # group covers scale, restart
        ("rollback", Principal("U-LEAD"), True),
        ("purge_cache", Principal("U-LEAD"), False),
        ("purge_cache", Principal("cli:alice"), True),
        ("purge_cache", Principal("clio"), False),
    ],
)
def test_approvers_per_tool_and_namespace(
    sim: SimulatedCluster, tool: str, who: Principal, allowed: bool
) -> None:
    action = Action(tool, "shop", "recommender", {})
    decision = guard(sim, approvers=APPROVERS).may_approve(action, "medic:planner", who)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule == "approvers" and f"you ({who.id}) may not approve" in decision.reason


@pytest.mark.parametrize(
    ("two_person_rule", "requested_by", "approver", "allowed"),
    [
        (True, "cli:alice", "cli:alice", False),
        (True, "cli:alice", "cli:bob", True),
        (True, "medic:planner", "cli:alice", True),
        (False, "cli:alice", "cli:alice", True),
    ],
)
def test_two_person_rule(
    sim: SimulatedCluster, two_person_rule: bool, requested_by: str, approver: str, allowed: bool
) -> None:
    environments = {
        "production": {
            "namespaces": ["shop"],
            "tools": ["scale"],
            "two_person_rule": two_person_rule,
        }
    }
    decision = guard(sim, environments=environments, auto_run=[]).may_approve(
        scale(4), requested_by, Principal(approver)
    )
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule == "two_person_rule"


@pytest.mark.parametrize(
    ("tool", "namespace", "auto"),
    [
        ("purge_cache", "shop-staging", True),
        ("purge_cache", "shop", False),
        ("scale", "shop-staging", False),
    ],
)
def test_auto_run_rules(sim: SimulatedCluster, tool: str, namespace: str, auto: bool) -> None:
    assert guard(sim).auto_runs(Action(tool, namespace, "recommender", {})) is auto


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("replicas: {min: 5, max: 2}\n", "replicas.min (5) is above replicas.max (2)"),
        ("environments: {prod: {namespaces: [a], tools: [explode]}}\n", "unknown tools"),
        ("auto_run: [{tool: rollback, environments: [x]}]\n", "only name low-risk tools"),
        ("environments: {a: {namespaces: [x]}, b: {namespaces: [x]}}\n", "in two environments"),
        ("cache_prefixes: ['*']\n", "must be non-empty literal text"),
        ("approvers: [{users: [U1], tools: [reboot]}]\n", "unknown tools"),
        ("tools: [scale]\n", "Extra inputs are not permitted"),
        ("environments: [\n", "not valid YAML"),
    ],
)
def test_policy_file_errors_are_clear(tmp_path: Path, yaml_text: str, message: str) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(yaml_text)
    with pytest.raises(PolicyError, match="policy") as info:
        load_policy(bad)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_policy_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.yaml")
