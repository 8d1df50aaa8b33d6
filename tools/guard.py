"""The guard: the one place that decides whether an action may run.

Every path to a tool - Slack button, CLI, planner, auto-run - asks the guard before proposing and
the executor asks again before executing, because the policy or the cluster may have changed in
between. A refusal names the rule that refused and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.actions import Action
from tools.backends import ClusterBackend
from tools.catalog import TOOLS, PurgeCacheParams, ScaleParams
from tools.errors import ToolError
from tools.policy import Policy


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    reason: str

    @classmethod
    def allow(cls) -> Decision:
        return cls(True, "allowed", "within policy")


class Guard:
    def __init__(self, policy: Policy, cluster: ClusterBackend) -> None:
        self.policy = policy
        self._cluster = cluster

    def check(self, action: Action) -> Decision:
        spec = TOOLS.get(action.tool)
        if spec is None:
            return Decision(False, "unknown_tool", f"no tool named {action.tool!r}")
        if action.tool not in self.policy.tools:
            return Decision(False, "tools", f"tool {action.tool} is not allowed by policy")
        if action.namespace not in self.policy.namespaces:
            return Decision(
                False,
                "namespaces",
                f"namespace {action.namespace} is not in the allowed namespaces",
            )
        problem = spec.validate(action)
        if problem:
            return Decision(False, "parameters", problem)
        try:
            current = self._cluster.get_deployment(action.namespace, action.name)
        except ToolError as exc:
            return Decision(False, "target", str(exc))
        if action.tool == "scale":
            return self._check_scale(action, current.replicas)
        if action.tool == "purge_cache":
            return self._check_purge(action)
        return Decision.allow()

    def _check_scale(self, action: Action, current: int) -> Decision:
        replicas = ScaleParams.model_validate(action.params).replicas
        bounds = self.policy.replicas
        if replicas > bounds.max:
            return Decision(
                False, "replicas.max", f"{replicas} replicas is above the ceiling of {bounds.max}"
            )
        if replicas < bounds.min:
            return Decision(
                False, "replicas.min", f"{replicas} replicas is below the floor of {bounds.min}"
            )
        factor = self.policy.max_scale_factor
        low, high = current / factor, current * factor
        if current > 0 and not low <= replicas <= high:
            return Decision(
                False,
                "max_scale_factor",
                f"{current} -> {replicas} changes replicas by more than {factor:g}x in one step",
            )
        return Decision.allow()

    def _check_purge(self, action: Action) -> Decision:
        pattern = PurgeCacheParams.model_validate(action.params).pattern
        if not any(pattern.startswith(p) for p in self.policy.cache_prefixes):
            return Decision(
                False,
                "cache_prefixes",
                f"pattern {pattern!r} is outside the allowed key prefixes "
                f"({', '.join(self.policy.cache_prefixes) or 'none'})",
            )
        return Decision.allow()
