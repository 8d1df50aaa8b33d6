"""Remediation tools, their backends, the guard (policy), the executor and the audit log.

Nothing in this package imports ``bot``. Every entry point - Slack, the CLI, the planner, LangChain
tools, auto-run rules - reaches the tools only through ``tools.workflow.RemediationWorkflow``, which
asks the guard and records everything in the audit log.
"""
