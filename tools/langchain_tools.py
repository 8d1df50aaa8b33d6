"""The tools as LangChain ``StructuredTool``s for an LLM planner.

A write tool's args schema is its pydantic parameters plus the target; calling it creates a
proposal through the workflow (guard, dry run, audit) and answers what happens next - it never
executes by itself: a human approves, or a low-risk auto-run rule of the policy does. The read-only
helpers answer directly.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, create_model

from tools.actions import Action
from tools.catalog import TOOLS, ToolSpec
from tools.workflow import RemediationWorkflow


def _args_schema(spec: ToolSpec) -> type[BaseModel]:
    return create_model(
        f"{spec.name.title().replace('_', '')}Args",
        __base__=spec.params,
        namespace=(str, Field(description="Kubernetes namespace of the workload.")),
        workload=(str, Field(description="Name of the Deployment (the service).")),
    )


def structured_tools(
    workflow: RemediationWorkflow, *, incident_id: str, requested_by: str = "medic:llm-planner"
) -> list[StructuredTool]:
    """One StructuredTool per Medic tool, bound to an incident."""

    def bind(spec: ToolSpec) -> StructuredTool:
        def call(namespace: str, workload: str, **params: Any) -> str:
            action = Action(spec.name, namespace, workload, params)
            if spec.read_only:
                return workflow.read(action, requested_by).summary
            outcome = workflow.propose(
                incident_id,
                action,
                requested_by=requested_by,
                source="llm-planner",
                recipe={"tool": spec.name, "params": params},
            )
            return f"{outcome.result.status.value}: {outcome.result.summary}"

        return StructuredTool.from_function(
            func=call,
            name=spec.name,
            description=spec.description
            + (" Read-only." if spec.read_only else " Creates a proposal for a human to approve."),
            args_schema=_args_schema(spec),
        )

    return [bind(spec) for spec in TOOLS.values()]
