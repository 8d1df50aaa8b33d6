"""Remediation tools, their backends, the guard (policy), the executor and the audit log.

Nothing in this package imports ``bot``. Every entry point - Slack, the CLI, the planner, LangChain
tools, auto-run rules - reaches the tools only through ``tools.workflow.RemediationWorkflow``, which
asks the guard and records everything in the audit log.

Import from the package (``from tools import RemediationWorkflow``), not its modules: ``__all__``
is the supported surface. Names load on first use (PEP 562) because some of their modules are slow
to import (the Kubernetes client, LangChain, Redis) and most commands need only a few of them. The
persistence helpers (``tools.schema``, ``tools.transactions``, ``tools.upsert``) are not part of
it: they serve the stores of this package and ``bot``'s own schema.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.actions import UNREACHABLE, Action, Principal, Risk, ToolResult, ToolStatus
    from tools.alertmanager import AlertmanagerSilences
    from tools.audit import AuditEntry, AuditLog, AuditReport
    from tools.backends import (
        Backends,
        CacheBackend,
        ClusterBackend,
        NoCluster,
        NotConfigured,
        Rollout,
        SilenceBackend,
    )
    from tools.catalog import TOOLS, ToolContext, ToolSpec
    from tools.clock import Clock, SystemClock, VirtualClock
    from tools.errors import (
        BackendUnavailableError,
        ConflictError,
        InvalidRequestError,
        PermissionDeniedError,
        PolicyError,
        StateUnavailableError,
        TargetNotFoundError,
        ToolError,
        TransientError,
    )
    from tools.guard import Decision, Guard
    from tools.kube import KubernetesCluster, load_api_client
    from tools.langchain_tools import structured_tools
    from tools.policy import SERVICE_LABELS, ApproverRule, Policy, load_policy
    from tools.proposals import Proposal, ProposalStatus, ProposalStore
    from tools.redis_cache import RedisCache
    from tools.sim import SCENARIOS, Scenario, SimulatedCluster
    from tools.workflow import Outcome, RemediationWorkflow, Settled
    from tools.yaml_input import YamlInputError, load_yaml, read_bounded

# public name -> (module, attribute); what __getattr__ imports on first use
_EXPORTS: dict[str, tuple[str, str]] = {
    "Action": ("tools.actions", "Action"),
    "AlertmanagerSilences": ("tools.alertmanager", "AlertmanagerSilences"),
    "ApproverRule": ("tools.policy", "ApproverRule"),
    "AuditEntry": ("tools.audit", "AuditEntry"),
    "AuditLog": ("tools.audit", "AuditLog"),
    "AuditReport": ("tools.audit", "AuditReport"),
    "BackendUnavailableError": ("tools.errors", "BackendUnavailableError"),
    "Backends": ("tools.backends", "Backends"),
    "CacheBackend": ("tools.backends", "CacheBackend"),
    "Clock": ("tools.clock", "Clock"),
    "ClusterBackend": ("tools.backends", "ClusterBackend"),
    "ConflictError": ("tools.errors", "ConflictError"),
    "Decision": ("tools.guard", "Decision"),
    "Guard": ("tools.guard", "Guard"),
    "InvalidRequestError": ("tools.errors", "InvalidRequestError"),
    "KubernetesCluster": ("tools.kube", "KubernetesCluster"),
    "NoCluster": ("tools.backends", "NoCluster"),
    "NotConfigured": ("tools.backends", "NotConfigured"),
    "Outcome": ("tools.workflow", "Outcome"),
    "PermissionDeniedError": ("tools.errors", "PermissionDeniedError"),
    "Policy": ("tools.policy", "Policy"),
    "PolicyError": ("tools.errors", "PolicyError"),
    "Principal": ("tools.actions", "Principal"),
    "Proposal": ("tools.proposals", "Proposal"),
    "ProposalStatus": ("tools.proposals", "ProposalStatus"),
    "ProposalStore": ("tools.proposals", "ProposalStore"),
    "RedisCache": ("tools.redis_cache", "RedisCache"),
    "RemediationWorkflow": ("tools.workflow", "RemediationWorkflow"),
    "Risk": ("tools.actions", "Risk"),
    "Rollout": ("tools.backends", "Rollout"),
    "SCENARIOS": ("tools.sim", "SCENARIOS"),
    "SERVICE_LABELS": ("tools.policy", "SERVICE_LABELS"),
    "Scenario": ("tools.sim", "Scenario"),
    "Settled": ("tools.workflow", "Settled"),
    "SilenceBackend": ("tools.backends", "SilenceBackend"),
    "SimulatedCluster": ("tools.sim", "SimulatedCluster"),
    "StateUnavailableError": ("tools.errors", "StateUnavailableError"),
    "SystemClock": ("tools.clock", "SystemClock"),
    "TOOLS": ("tools.catalog", "TOOLS"),
    "TargetNotFoundError": ("tools.errors", "TargetNotFoundError"),
    "ToolContext": ("tools.catalog", "ToolContext"),
    "ToolError": ("tools.errors", "ToolError"),
    "ToolResult": ("tools.actions", "ToolResult"),
    "ToolSpec": ("tools.catalog", "ToolSpec"),
    "ToolStatus": ("tools.actions", "ToolStatus"),
    "TransientError": ("tools.errors", "TransientError"),
    "UNREACHABLE": ("tools.actions", "UNREACHABLE"),
    "VirtualClock": ("tools.clock", "VirtualClock"),
    "YamlInputError": ("tools.yaml_input", "YamlInputError"),
    "load_api_client": ("tools.kube", "load_api_client"),
    "load_policy": ("tools.policy", "load_policy"),
    "load_yaml": ("tools.yaml_input", "load_yaml"),
    "read_bounded": ("tools.yaml_input", "read_bounded"),
    "structured_tools": ("tools.langchain_tools", "structured_tools"),
}

__all__ = [
    "SCENARIOS",
    "SERVICE_LABELS",
    "TOOLS",
    "UNREACHABLE",
    "Action",
    "AlertmanagerSilences",
    "ApproverRule",
    "AuditEntry",
    "AuditLog",
    "AuditReport",
    "BackendUnavailableError",
    "Backends",
    "CacheBackend",
    "Clock",
    "ClusterBackend",
    "ConflictError",
    "Decision",
    "Guard",
    "InvalidRequestError",
    "KubernetesCluster",
    "NoCluster",
    "NotConfigured",
    "Outcome",
    "PermissionDeniedError",
    "Policy",
    "PolicyError",
    "Principal",
    "Proposal",
    "ProposalStatus",
    "ProposalStore",
    "RedisCache",
    "RemediationWorkflow",
    "Risk",
    "Rollout",
    "Scenario",
    "Settled",
    "SilenceBackend",
    "SimulatedCluster",
    "StateUnavailableError",
    "SystemClock",
    "TargetNotFoundError",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "ToolSpec",
    "ToolStatus",
    "TransientError",
    "VirtualClock",
    "YamlInputError",
    "load_api_client",
    "load_policy",
    "load_yaml",
    "read_bounded",
    "structured_tools",
]


def __getattr__(name: str) -> object:
    """Import a public name's module the first time the name is asked for."""
    found = _EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module 'tools' has no attribute {name!r}")
    module, attribute = found
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
