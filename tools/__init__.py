"""Remediation tools, their backends, the guard (policy) and the executor.

Nothing in this package imports ``bot``; the planner and Slack reach tools only through the guard
and the executor.
"""
