"""Redis and Alertmanager down while proposing and while executing a purge or a silence (the
fault suite of issue 11): the person is told what was not done and which service failed, the
proposal and the audit log agree, and once the service is back the same action works."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import load_settings
from bot.wiring.backends import sim_backends
from bot.wiring.flow import build_workflow
from tests.services.alertmanager import running_alertmanager
from tests.services.binaries import free_port
from tests.services.redis import running_redis
from tools.actions import Action, ToolStatus
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.schema import upgraded
from tools.sim import SimulatedCluster
from tools.workflow import RemediationWorkflow

PURGE = Action("purge_cache", "shop", "recommender", {"pattern": "recommender:*"})
SILENCE = Action(
    "silence",
    "shop",
    "recommender",
    {"matchers": {"namespace": "shop", "service": "recommender"}, "duration_minutes": 30},
)


def act(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["act", *args, "--yes", "--cluster", "sim"])
    return result.exit_code, result.stdout, result.stderr


def audit_events() -> list[str]:
    out = CliRunner().invoke(app, ["audit", "list", "--json"]).stdout
    return [json.loads(line)["event"] for line in out.splitlines()]


def workflow(sim: SimulatedCluster, clock: VirtualClock, data: Path) -> RemediationWorkflow:
    """The guarded workflow as `medic serve --cluster sim` wires it, with the configured Redis
    and Alertmanager (MEDIC_REDIS_URL, MEDIC_ALERTMANAGER_URL) behind purge_cache and silence."""
    settings = load_settings()
    engine = upgraded(create_engine(f"sqlite:///{data / 'state.db'}"))
    return build_workflow(settings, sim_backends(settings, sim), clock, engine)


@pytest.mark.parametrize(
    ("tool", "service"),
    [(("purge_cache", "--param", "pattern=recommender:*"), "Redis"),
     (("silence", "--param", "matchers={namespace: shop, service: recommender}",
       "--param", "duration_minutes=30"), "Alertmanager")],
)  # fmt: skip
def test_a_service_down_while_proposing_is_not_done_naming_it_and_a_retry_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: tuple[str, ...], service: str
) -> None:
    port = free_port()
    if service == "Redis":
        monkeypatch.setenv("MEDIC_REDIS_URL", f"redis://127.0.0.1:{port}/0")
        up = running_redis(tmp_path, port)
    else:
        monkeypatch.setenv("MEDIC_ALERTMANAGER_URL", f"http://127.0.0.1:{port}")
        up = running_alertmanager(tmp_path, port=port)
    code, _, err = act(tool[0], "--target", "shop/recommender", *tool[1:])
    assert code == 4, err  # a failure, not a policy refusal (3) nor bad input (2)
    assert err.startswith(
        f"medic: not done: the dry run of {tool[0]} failed: cannot reach {service}"
    )
    assert "refused by policy" not in err
    assert audit_events() == ["refused"]  # the proposal and its audit entry agree: not run
    with up:
        code, out, err = act(tool[0], "--target", "shop/recommender", *tool[1:])
        assert code == 0, err
        assert out.splitlines()[-1].startswith(("purged 0 cache keys", "silenced alerts"))
    assert audit_events() == ["refused", "proposed", "approved", "started", "executed"]


def test_redis_down_while_executing_fails_naming_it_and_a_new_proposal_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim: SimulatedCluster, clock: VirtualClock
) -> None:
    port = free_port()
    monkeypatch.setenv("MEDIC_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    flow = workflow(sim, clock, tmp_path)
    with running_redis(tmp_path, port) as url:
        redis.Redis.from_url(url).mset({"recommender:a": "1", "recommender:b": "2"})
        proposed = flow.propose("INC-1", PURGE, requested_by="cli:anna", source="cli").proposal
        assert proposed.preview.startswith("delete 2 cache keys")
    # Redis stops between the proposal and its approval
    outcome = flow.approve(proposed.id, "cli:anna", proposed.digest)
    assert outcome.result.status is ToolStatus.FAILED
    assert outcome.result.summary.startswith("purge_cache on shop/recommender failed: ")
    assert "cannot reach Redis" in outcome.result.summary
    assert outcome.proposal.status is ProposalStatus.FAILED
    assert [e.event for e in flow.audit.entries()] == ["proposed", "approved", "started", "failed"]
    assert flow.audit.verify().ok
    with running_redis(tmp_path, port) as url:  # back: proposed again, it runs
        redis.Redis.from_url(url).mset({"recommender:a": "1"})
        clock.sleep(flow.guard.policy.cooldown_seconds)
        again = flow.propose("INC-1", PURGE, requested_by="cli:anna", source="cli").proposal
        done = flow.approve(again.id, "cli:anna", again.digest)
        assert done.result.status is ToolStatus.SUCCEEDED, done.result.summary
        assert redis.Redis.from_url(url).dbsize() == 0


def test_alertmanager_down_while_executing_creates_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim: SimulatedCluster, clock: VirtualClock
) -> None:
    port = free_port()
    monkeypatch.setenv("MEDIC_ALERTMANAGER_URL", f"http://127.0.0.1:{port}")
    flow = workflow(sim, clock, tmp_path)
    (tmp_path / "am1").mkdir()
    (tmp_path / "am2").mkdir()
    with running_alertmanager(tmp_path / "am1", port=port):
        proposed = flow.propose("INC-1", SILENCE, requested_by="cli:anna", source="cli").proposal
        assert proposed.status is ProposalStatus.PROPOSED, proposed.outcome
    outcome = flow.approve(proposed.id, "cli:anna", proposed.digest)
    assert outcome.result.status is ToolStatus.FAILED
    assert "cannot reach Alertmanager" in outcome.result.summary
    assert [e.event for e in flow.audit.entries()] == ["proposed", "approved", "started", "failed"]
    with running_alertmanager(tmp_path / "am2", port=port) as alertmanager:
        again = flow.propose("INC-1", SILENCE, requested_by="cli:anna", source="cli").proposal
        done = flow.approve(again.id, "cli:anna", again.digest)
        assert done.result.status is ToolStatus.SUCCEEDED, done.result.summary
        silences = httpx.get(f"{alertmanager.url}/api/v2/silences", timeout=10).json()
        assert len(silences) == 1  # the failed attempt left nothing behind
