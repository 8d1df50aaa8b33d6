"""Dependencies that accept a connection and never answer (or answer a byte at a time): each
costs Medic a bounded, documented time and one clear line, and nothing is lost - the failure is
recorded as the guard defines it, and the same action runs once the service answers again.

Every case goes through the real entry point (``medic act``, the guarded workflow, ``medic
serve``'s webhook) against ``tests/services/silent_tcp.py`` with short configured timeouts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from click.testing import Result
from sqlalchemy import create_engine
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import load_settings
from bot.wiring.backends import sim_backends
from bot.wiring.flow import build_workflow
from tests.services.redis import running_redis
from tests.services.silent_tcp import stalling_tcp
from tools.actions import Action, ToolStatus
from tools.clock import VirtualClock
from tools.proposals import ProposalStatus
from tools.schema import upgraded
from tools.sim import SimulatedCluster

HANG = 30  # seconds after which a command is taken for hung (a silent Redis cost ~45 s before)
PURGE = Action("purge_cache", "shop", "recommender", {"pattern": "recommender:*"})


def in_thread(*args: str) -> Result:
    """``medic ARGS`` run to its end, or a failed test after ``HANG`` seconds."""
    done: list[Result] = []
    medic = threading.Thread(
        target=lambda: done.append(CliRunner().invoke(app, list(args))), daemon=True
    )
    medic.start()
    medic.join(HANG)
    assert done, f"`medic {' '.join(args)}` still waiting after {HANG} s"
    return done[0]


def test_a_purge_dry_run_against_a_redis_that_never_answers_is_one_line_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIC_REDIS_TIMEOUT_SECONDS", "1")
    with stalling_tcp("silent") as silent:
        monkeypatch.setenv("MEDIC_REDIS_URL", f"redis://{silent.url_host}/0")
        started = time.monotonic()
        result = in_thread(
            "act", "purge_cache", "--target", "shop/recommender",
            "--param", "pattern=recommender:*", "--dry-run", "--cluster", "sim",
        )  # fmt: skip
        took = time.monotonic() - started
    assert result.exit_code == 4 and result.stdout == ""  # not done: a failure, not bad input
    assert result.stderr == (
        "medic: not done: the dry run of purge_cache failed: Redis did not answer within 1 s "
        f"(redis_timeout_seconds; Timeout reading from {silent.url_host})\n"
    )
    # No new try starts after half the timeout: one connection, not four timeouts plus backoff.
    assert silent.accepted == 1, took


def test_a_redis_that_stops_answering_before_the_approved_purge_fails_it_and_loses_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sim: SimulatedCluster,
    clock: VirtualClock,
) -> None:
    """The approval is not left hanging: the execution ends failed within the timeout, the
    audit log agrees, and the same purge proposed again once Redis answers runs."""
    with stalling_tcp("silent") as probe:
        port = probe.port  # a free port, held until Redis takes it
    monkeypatch.setenv("MEDIC_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv("MEDIC_REDIS_TIMEOUT_SECONDS", "1")
    settings = load_settings()
    engine = upgraded(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    flow = build_workflow(settings, sim_backends(settings, sim), clock, engine)
    (tmp_path / "r1").mkdir()
    (tmp_path / "r2").mkdir()
    with running_redis(tmp_path / "r1", port) as url:
        redis.Redis.from_url(url).mset({"recommender:a": "1", "recommender:b": "2"})
        proposed = flow.propose("INC-1", PURGE, requested_by="cli:anna", source="cli").proposal
        assert proposed.preview.startswith("delete 2 cache keys")
    with stalling_tcp("silent", port=port) as silent:  # Redis's address answers no more
        outcome = flow.approve(proposed.id, "cli:anna", proposed.digest)
    assert silent.accepted == 1
    assert outcome.result.status is ToolStatus.FAILED
    assert outcome.result.summary == (
        "purge_cache on shop/recommender failed: Redis did not answer within 1 s "
        f"(redis_timeout_seconds; Timeout reading from 127.0.0.1:{port})"
    )
    assert outcome.proposal.status is ProposalStatus.FAILED
    assert [e.event for e in flow.audit.entries()] == ["proposed", "approved", "started", "failed"]
    with running_redis(tmp_path / "r2", port) as url:  # answering again: proposed again, it runs
        redis.Redis.from_url(url).mset({"recommender:a": "1"})
        clock.sleep(flow.guard.policy.cooldown_seconds)
        again = flow.propose("INC-1", PURGE, requested_by="cli:anna", source="cli").proposal
        done = flow.approve(again.id, "cli:anna", again.digest)
        assert done.result.status is ToolStatus.SUCCEEDED, done.result.summary
        assert redis.Redis.from_url(url).dbsize() == 0
