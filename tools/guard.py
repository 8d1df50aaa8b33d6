"""The guard: the one place that decides whether an action may run and who may approve it.

``RemediationWorkflow`` asks it on every path to a tool - Slack button, CLI, planner, auto-run -
when proposing, when someone approves, and again right before executing, because the policy or the
cluster may have changed in between. A refusal names the rule that refused and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tools.actions import NOT_DONE_RULES, UNREACHABLE, Action, Principal
from tools.backends import ClusterBackend
from tools.catalog import TOOLS, PurgeCacheParams, ScaleParams, SilenceParams
from tools.errors import BackendUnavailableError, ToolError
from tools.policy import Environment, Policy, in_clusters

# Tools whose cooldown counts per registered model on the target: a service may serve several
# models (and a model be served by several services), and promoting one says nothing about when
# another may be promoted.
PER_MODEL = frozenset({"promote_model", "retrain"})


def cooldown_subject(action: Action) -> str:
    """What on ``action``'s target its cooldown counts per, besides the tool: the model for
    ``PER_MODEL`` tools, '' for every other (their cooldown is the target's)."""
    if action.tool in PER_MODEL:  # bounded: a refused proposal's parameters are kept unchecked
        return str(action.params.get("model") or "")[:256]
    return ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    reason: str

    @classmethod
    def allow(cls, reason: str = "within policy") -> Decision:
        return cls(True, "allowed", reason)

    @classmethod
    def refuse(cls, rule: str, reason: str) -> Decision:
        return cls(False, rule, reason)

    @property
    def text(self) -> str:
        if self.allowed:
            return self.reason
        if self.rule in NOT_DONE_RULES:
            return f"not done: {self.reason}"
        return f"refused by policy ({self.rule}): {self.reason}"

    @property
    def refusal(self) -> str | None:
        """How a proposal records this refusal (``rule: reason``); None when allowed."""
        return None if self.allowed else f"{self.rule}: {self.reason}"


class ActionHistory(Protocol):
    def last_execution(self, action: Action, cluster: str) -> float | None:
        """When the same tool last ran (or started running) on the same target in ``cluster``."""
        ...


class Guard:
    def __init__(
        self,
        policy: Policy,
        cluster: ClusterBackend,
        history: ActionHistory,
        cluster_name: str | None = None,
    ) -> None:
        """``cluster_name``: the cluster's name in Medic's clusters map, which policy rules
        name and cooldowns are kept by; unset: the backend's own name (one implicit cluster)."""
        self.policy = policy
        self._cluster = cluster
        self._history = history
        self.cluster_name = cluster_name or cluster.name
        # Named (a cluster of the map): proposals are bound to it, and one bound to another
        # cluster is refused here. Unnamed, replicas on simulated clusters are worlds of their
        # own that share proposals, as they always did.
        self.bound = cluster_name is not None

    def check(self, action: Action, now: float) -> Decision:
        """May ``action`` run now? Every rule that applies, in a fixed order; the first refuses."""
        spec = TOOLS.get(action.tool)
        if spec is None:
            return Decision.refuse("unknown_tool", f"no tool named {action.tool!r}")
        found = self.policy.environment_of(action.namespace)
        if found is None:
            return Decision.refuse(
                "namespaces",
                f"namespace {action.namespace} is not in any environment of the policy "
                f"(allowed: {', '.join(self.policy.namespaces) or 'none'})",
            )
        env_name, env = found
        if not in_clusters(env.clusters, self.cluster_name):
            return Decision.refuse(
                "clusters",
                f"environment {env_name} holds in clusters {', '.join(env.clusters)}, not in "
                f"{self.cluster_name}",
            )
        allowed_workloads = self.policy.workloads.get(action.namespace)
        if allowed_workloads is not None and action.name not in allowed_workloads:
            return Decision.refuse(
                "workloads",
                f"{action.name} is not among the workloads Medic may touch in "
                f"{action.namespace} ({', '.join(allowed_workloads) or 'none'})",
            )
        if not spec.read_only and action.tool not in env.tools:
            return Decision.refuse(
                "tools", f"tool {action.tool} is not allowed in environment {env_name}"
            )
        problem = spec.validate(action)
        if problem:
            return Decision.refuse("parameters", problem)
        if spec.touches_cluster:
            try:
                current = self._cluster.get_deployment(action.namespace, action.name)
            except BackendUnavailableError as exc:
                return Decision.refuse(UNREACHABLE, str(exc))
            except ToolError as exc:
                return Decision.refuse("target", str(exc))
        if spec.read_only:
            return Decision.allow()
        specific = {
            "scale": lambda: self._check_scale(action, current.replicas),
            "purge_cache": lambda: self._check_purge(action),
            "silence": lambda: self._check_silence(action, env_name, env),
            "promote_model": lambda: self._check_model(action),
            "retrain": lambda: self._check_model(action),
        }.get(action.tool, Decision.allow)()
        if not specific.allowed:
            return specific
        return self._check_cooldown(action, now)

    def may_approve(self, action: Action, requested_by: str, approver: Principal) -> Decision:
        """May ``approver`` approve ``action``, which ``requested_by`` asked for?"""
        found = self.policy.environment_of(action.namespace)
        if found is not None and found[1].two_person_rule and approver.id == requested_by:
            return Decision.refuse(
                "two_person_rule",
                f"you asked for this action, so someone else must approve it "
                f"(two-person rule in {found[0]})",
            )
        rules = [
            r
            for r in self.policy.approvers
            if r.covers(action.tool, action.namespace, self.cluster_name)
        ]
        if not any(r.admits(approver) for r in rules):
            groups = sorted({g for r in rules for g in r.groups})
            if approver.groups_unknown and groups:  # not the policy's verdict: Slack's silence
                return Decision.refuse(
                    UNREACHABLE,
                    f"could not read your Slack user groups: {approver.groups_unknown}; the "
                    f"approvers of {action.tool} in {action.namespace} include the groups "
                    f"{', '.join(groups)}, so whether you may approve is unknown",
                )
            return Decision.refuse(
                "approvers",
                f"you ({approver.id}) may not approve {action.tool} in {action.namespace}; "
                "ask someone listed under approvers in the policy",
            )
        return Decision.allow(f"{approver.id} may approve {action.tool} in {action.namespace}")

    def auto_runs(self, action: Action) -> bool:
        """Does an auto-run rule let this action run without a human approval?"""
        found = self.policy.environment_of(action.namespace)
        return found is not None and any(
            rule.tool == action.tool
            and found[0] in rule.environments
            and in_clusters(rule.clusters, self.cluster_name)
            for rule in self.policy.auto_run
        )

    def _check_scale(self, action: Action, current: int) -> Decision:
        replicas = ScaleParams.model_validate(action.params).replicas
        bounds = self.policy.replicas
        if replicas > bounds.max:
            return Decision.refuse(
                "replicas.max", f"{replicas} replicas is above the ceiling of {bounds.max}"
            )
        if replicas < bounds.min:
            return Decision.refuse(
                "replicas.min", f"{replicas} replicas is below the floor of {bounds.min}"
            )
        factor = self.policy.max_scale_factor
        if current > 0 and not current / factor <= replicas <= current * factor:
            return Decision.refuse(
                "max_scale_factor",
                f"{current} -> {replicas} changes replicas by more than {factor:g}x in one step",
            )
        return Decision.allow()

    def _check_purge(self, action: Action) -> Decision:
        pattern = PurgeCacheParams.model_validate(action.params).pattern
        if not any(pattern.startswith(p) for p in self.policy.cache_prefixes):
            return Decision.refuse(
                "cache_prefixes",
                f"pattern {pattern!r} is outside the allowed key prefixes "
                f"({', '.join(self.policy.cache_prefixes) or 'none'})",
            )
        return Decision.allow()

    def _check_model(self, action: Action) -> Decision:
        """Only the registered models the policy lists for the namespace: a service's alert must
        not move another team's model."""
        model = str(action.params["model"])  # validated against the tool's parameters above
        allowed = self.policy.models.get(action.namespace, [])
        if model not in allowed:
            return Decision.refuse(
                "models",
                f"model {model[:80]!r} is not among the models Medic may touch in "
                f"{action.namespace} ({', '.join(allowed) or 'none'})",
            )
        return Decision.allow()

    def _check_silence(self, action: Action, env_name: str, env: Environment) -> Decision:
        params = SilenceParams.model_validate(action.params)
        scope = self._silence_scope(action, params.matchers, env_name, env)
        if not scope.allowed:
            return scope
        minutes = params.duration_minutes
        if minutes > self.policy.silence_max_minutes:
            return Decision.refuse(
                "silence_max_minutes",
                f"a {minutes} min silence is longer than the allowed "
                f"{self.policy.silence_max_minutes} min",
            )
        return Decision.allow()

    def _silence_scope(
        self, action: Action, matchers: dict[str, str], env_name: str, env: Environment
    ) -> Decision:
        """A silence reaches no further than its target: Alertmanager ANDs the matchers (all
        literal equalities, see SilenceParams), so pinning ``namespace`` and a workload label to
        the target's bounds it, and anything more only narrows it."""
        shown = ", ".join(f"{k}={v}" for k, v in sorted(matchers.items()))
        shown = "{" + (shown if len(shown) <= 200 else shown[:199] + "\u2026") + "}"
        namespace = matchers.get("namespace")
        if namespace != action.namespace:
            where = "in every namespace" if namespace is None else f"in namespace {namespace}"
            return Decision.refuse(
                "silence.scope",
                f"a silence for {action.target} must match namespace={action.namespace}; "
                f"{shown} would silence alerts {where}",
            )
        labels = self.policy.silence_workload_labels
        if env.silence_scope == "workload" and all(matchers.get(k) != action.name for k in labels):
            return Decision.refuse(
                "silence.scope",
                f"a silence for {action.target} must also match its workload "
                f"({' or '.join(f'{k}={action.name}' for k in labels)}); {shown} would silence "
                f"other workloads' alerts in {action.namespace} (environment {env_name} allows "
                "silence_scope: workload)",
            )
        return Decision.allow()

    def _check_cooldown(self, action: Action, now: float) -> Decision:
        return self.cooldown(action, self._history.last_execution(action, self.cluster_name), now)

    def cooldown(self, action: Action, last: float | None, now: float) -> Decision:
        """May ``action`` start at ``now`` when the same tool last started on its target (on the
        same model there: ``cooldown_subject``) at ``last``? The executor asks again under the
        target's lock, right before starting."""
        cooldown = self.policy.cooldown_seconds
        if last is not None and now - last < cooldown:
            wait = cooldown - (now - last)
            subject = cooldown_subject(action)
            what = f"{action.tool} of model {subject[:80]!r}" if subject else action.tool
            return Decision.refuse(
                "cooldown",
                f"{what} already ran on {action.target} {now - last:.0f} s ago; "
                f"wait {wait:.0f} s more (cooldown {cooldown:g} s)",
            )
        return Decision.allow()
