"""The Kubernetes API misbehaving while an approved action executes (kmock): server errors, a
conflict, requests that time out, an answer lost after the change was applied. For each, what the
person is shown (the result and the line the Slack thread renders) and that nothing is lost: the
proposal ends succeeded or failed - never executing - with its audit entries, and the change is
made once or not at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.slack.blocks import decision_line
from tests.bot.slack.fake_slack import decode
from tests.reliability.test_interrupted_actions import (  # noqa: F401  (the engine fixture)
    ROLLBACK,
    SCALE,
    at_write,
    engine,
    kube_backends,
    remediation,
)
from tests.services.kube import DEPLOYMENTS, KubeApi, kube_api  # noqa: F401  (fixture)
from tests.tools.test_kube import shop  # noqa: F401  (fixture)
from tools.actions import Action, Principal, ToolStatus
from tools.backends import Backends
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus

READ_TIMEOUT = 1.0


@pytest.fixture
def kube(shop: KubeApi) -> Backends:  # noqa: F811
    """Four attempts per request, a short read timeout."""
    return kube_backends(shop, attempts=4, timeout=(1.0, READ_TIMEOUT))


def approve(
    engine: Engine,  # noqa: F811
    kube: Backends,
    clock: VirtualClock,
    action: Action,
    before_write: Callable[[], None],
) -> Any:
    """``action`` proposed and approved; ``before_write`` meddles right before the real write."""
    flow = remediation(engine, at_write(kube, action.tool, before=before_write), clock)
    proposal = flow.propose("INC-1", action, requested_by="medic:planner", source="t").proposal
    outcome = flow.approve(proposal.id, Principal("cli:anna"), proposal.digest)
    assert outcome.proposal.status in (ProposalStatus.SUCCEEDED, ProposalStatus.FAILED)
    events = [e.event for e in flow.audit.entries()]
    assert events == ["proposed", "approved", "started", outcome.proposal.status.value
                      .replace("succeeded", "executed")]  # fmt: skip
    assert flow.audit.verify().ok
    return outcome


def shown(outcome: Any) -> str:
    """The line the proposal's Slack thread shows for it, as a reader sees it."""
    return decode(decision_line(outcome.proposal))


def real_patches(api: KubeApi) -> list[Any]:
    return [r for r in api.requests("PATCH") if r.params.get("dryRun") is None]


def replicas(api: KubeApi) -> int:
    return int(api.get(DEPLOYMENTS, "shop", "recommender")["spec"]["replicas"])


def test_server_errors_on_the_write_are_retried_and_the_change_made_once(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,  # noqa: F811
    clock: VirtualClock,
) -> None:
    outcome = approve(engine, kube, clock, SCALE, lambda: shop.fail("PATCH", 503, times=3))
    assert outcome.result.status is ToolStatus.SUCCEEDED
    assert shown(outcome).endswith("scaled deployment shop/recommender: 3 -> 6 replicas")
    assert replicas(shop) == 6


def test_a_server_that_keeps_failing_leaves_a_failed_action_saying_why(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,  # noqa: F811
    clock: VirtualClock,
) -> None:
    outcome = approve(engine, kube, clock, SCALE, lambda: shop.fail("PATCH", 500, times=4))
    assert outcome.result.status is ToolStatus.FAILED
    line = shown(outcome)
    assert line.startswith(":x: Approved by cli:anna")
    assert "failed: scale on shop/recommender failed: scale shop/recommender: Kubernetes " in line
    assert "answered 500" in line
    assert replicas(shop) == 3  # every attempt refused: nothing changed
    again = remediation(engine, kube, clock).approve(
        outcome.proposal.id, Principal("cli:anna"), outcome.proposal.digest
    )
    assert again.result.summary.startswith("already executed by cli:anna")  # not re-run


def test_a_conflict_on_a_rollback_is_a_failure_not_an_overwrite(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,  # noqa: F811
    clock: VirtualClock,
) -> None:
    before = shop.get(DEPLOYMENTS, "shop", "recommender")["spec"]["template"]
    # someone changes the Deployment between Medic's read and its patch
    outcome = approve(engine, kube, clock, ROLLBACK, lambda: shop.fail("PATCH", 409))
    assert outcome.result.status is ToolStatus.FAILED
    assert "the Deployment changed meanwhile, propose again" in shown(outcome)
    assert shop.get(DEPLOYMENTS, "shop", "recommender")["spec"]["template"] == before


def test_requests_that_time_out_are_retried_and_the_change_made_once(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,  # noqa: F811
    clock: VirtualClock,
) -> None:
    outcome = approve(
        engine, kube, clock, SCALE, lambda: shop.delay("PATCH", READ_TIMEOUT + 1, times=2)
    )
    assert outcome.result.status is ToolStatus.SUCCEEDED
    assert replicas(shop) == 6
    assert {r.data["spec"]["replicas"] for r in real_patches(shop)} == {6}  # only ever "6"


def test_an_answer_lost_after_the_change_was_applied_is_not_a_second_change(
    kube: Backends,
    shop: KubeApi,  # noqa: F811
    engine: Engine,  # noqa: F811
    clock: VirtualClock,
) -> None:
    outcome = approve(engine, kube, clock, SCALE, shop.lose_next_answer)
    assert outcome.result.status is ToolStatus.SUCCEEDED
    assert replicas(shop) == 6
