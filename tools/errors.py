"""Errors raised by tool backends; the executor turns them into failed results."""


class ToolError(Exception):
    """A tool could not do what it was asked."""


class TargetNotFoundError(ToolError):
    """The workload or namespace named by an action does not exist."""


class BackendUnavailableError(ToolError):
    """The cluster, cache or alert manager could not be reached."""


class PolicyError(ToolError):
    """The policy file is missing, unreadable or invalid."""
