"""Errors raised by tool backends; the executor turns them into failed results."""

from __future__ import annotations


class ToolError(Exception):
    """A tool could not do what it was asked."""


class TargetNotFoundError(ToolError):
    """The workload or namespace named by an action does not exist."""


class BackendUnavailableError(ToolError):
    """The cluster, cache or alert manager could not be reached."""


class PermissionDeniedError(ToolError):
    """The backend refused Medic's credentials for this operation (Kubernetes 403, Redis NOPERM)."""


class ConflictError(ToolError):
    """The target changed under Medic (Kubernetes 409); re-read and propose again."""


class InvalidRequestError(ToolError):
    """The backend rejected the request itself (400, 422): retrying cannot help."""


class TransientError(BackendUnavailableError):
    """A failure that may pass: a timeout, a 5xx, a 429. ``may_have_applied`` is False only when the
    request certainly changed nothing (rate-limited, or the connection was never made), which is
    the only case in which a non-idempotent step may be sent again."""

    def __init__(
        self, message: str, *, may_have_applied: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.may_have_applied = may_have_applied
        self.retry_after = retry_after


class DependencyUnavailableError(TransientError):
    """A service a tool needs besides its target - the model registry, a training pipeline -
    could not be reached; the message names it whole ("the model registry could not be reached
    (...)"), so it is shown as it is."""


class PolicyError(ToolError):
    """The policy file is missing, unreadable or invalid."""


class StateUnavailableError(Exception):
    """The state database could not record or read something within its retry budget (locked by
    another process, server restarting or unreachable). ``reason`` says so in plain words;
    ``recorded`` is True when the person's decision itself was stored before the failure (only
    what came after it is missing)."""

    def __init__(self, reason: str, *, recorded: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.recorded = recorded

    def after_recording(self) -> StateUnavailableError:
        """The same failure, raised after the decision was stored."""
        return StateUnavailableError(self.reason, recorded=True)
