"""The vocabulary of remediation: actions, their results, and the digest approval binds to."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# The rule of a refusal because the cluster could not be asked about the target: not the policy's
# verdict, so it reads "not done", not "refused by policy".
UNREACHABLE = "unreachable"
# The rule of an approved action that never started because Medic stopped, and whose approval
# expired before it could be carried out: not a policy verdict either.
INTERRUPTED = "interrupted"
# The rules of a dry run that failed: the tool could not do it (a permission, a conflict) or what
# it names does not exist (a model's version). Not policy verdicts either: they read "not done".
DRY_RUN_FAILED = "dry_run"
NOT_FOUND = "not_found"
NOT_DONE_RULES = frozenset({UNREACHABLE, INTERRUPTED, DRY_RUN_FAILED, NOT_FOUND})


class ToolStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"
    APPROVAL_REQUIRED = "approval_required"
    DRY_RUN = "dry_run"


class Risk(StrEnum):
    NONE = "none"  # read-only
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Action:
    """One concrete change: a tool, the workload it targets, and exact parameters."""

    tool: str
    namespace: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.name}"

    def digest(self) -> str:
        """SHA-256 over the canonical JSON of the action: what an approval is bound to."""
        canonical = json.dumps(
            {
                "tool": self.tool,
                "namespace": self.namespace,
                "name": self.name,
                "params": self.params,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who asks for or approves an action: a Slack user id with the user groups they belong to, a
    local user of the CLI (``cli:alice``), or Medic itself (``medic:planner``, ``policy:auto_run``).
    """

    id: str
    groups: frozenset[str] = frozenset()
    # Why ``groups`` could not be read (Slack said missing_scope, was down, ...); empty when they
    # were. A refusal then names this cause rather than "you may not approve".
    groups_unknown: str = ""

    @classmethod
    def of(
        cls, user: str | Principal, groups: Iterable[str] = (), groups_unknown: str = ""
    ) -> Principal:
        if isinstance(user, Principal):
            return user
        return cls(user, frozenset(groups), groups_unknown)


@dataclass(frozen=True)
class ToolResult:
    """The one result type every tool call returns, instead of raising into the caller."""

    status: ToolStatus
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is ToolStatus.SUCCEEDED
