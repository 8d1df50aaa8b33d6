"""LangChain StructuredTools: typed args from the pydantic models; calling one proposes, never
executes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.tools.conftest import WorkflowFactory
from tools.catalog import TOOLS
from tools.langchain_tools import structured_tools
from tools.proposals import ProposalStatus
from tools.sim import SimulatedCluster


def test_every_tool_is_a_structured_tool_with_its_parameters(
    make_workflow: WorkflowFactory,
) -> None:
    tools = {t.name: t for t in structured_tools(make_workflow(), incident_id="INC-1")}
    assert set(tools) == set(TOOLS)
    schema = tools["scale"].args
    assert set(schema) == {"namespace", "workload", "replicas"}
    assert schema["replicas"]["type"] == "integer"
    assert "Creates a proposal" in tools["scale"].description


def test_calling_a_write_tool_creates_a_proposal_and_changes_nothing(
    make_workflow: WorkflowFactory, sim: SimulatedCluster
) -> None:
    flow = make_workflow()
    scale = next(t for t in structured_tools(flow, incident_id="INC-1") if t.name == "scale")
    answer = scale.invoke({"namespace": "shop", "workload": "recommender", "replicas": 6})
    assert answer.startswith("approval_required: proposal ")
    [proposal] = flow.proposals.for_incident("INC-1")
    assert (
        proposal.status is ProposalStatus.PROPOSED and proposal.requested_by == "medic:llm-planner"
    )
    assert sim.get_deployment("shop", "recommender").replicas == 3
    refused = scale.invoke({"namespace": "kube-system", "workload": "coredns", "replicas": 0})
    assert refused.startswith("refused: refused by policy (namespaces)")


def test_read_only_helpers_answer_directly(make_workflow: WorkflowFactory) -> None:
    tools = {t.name: t for t in structured_tools(make_workflow(), incident_id="INC-1")}
    answer = tools["recent_rollouts"].invoke(
        {"namespace": "shop", "workload": "checkout", "limit": 1}
    )
    assert answer.startswith("recent rollouts of shop/checkout: revision 7 at ")


def test_bad_arguments_are_rejected_by_the_schema(make_workflow: WorkflowFactory) -> None:
    scale = structured_tools(make_workflow(), incident_id="INC-1")[0]
    with pytest.raises(ValidationError):
        scale.invoke({"namespace": "shop", "workload": "recommender", "replicas": "many"})
