"""Dependencies that accept a connection and never answer (or answer a byte at a time): each
costs Medic a bounded, documented time and one clear line, and nothing is lost - the failure is
recorded as the guard defines it, and the same action runs once the service answers again.

Every case goes through the real entry point (``medic act``, the guarded workflow, ``medic
serve``'s webhook) against ``tests/services/silent_tcp.py`` with short configured timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal, cast

import httpx
import pytest
import redis
from click.testing import Result
from sqlalchemy import create_engine, make_url
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config import load_settings
from bot.receivers.notes import NoteError, NoteTarget, OpsgenieNotes, PagerDutyNotes
from bot.receivers.notes import RetryPolicy as NoteRetry
from bot.slack.worker import Worker
from bot.wiring.backends import sim_backends
from bot.wiring.flow import build_workflow
from bot.wiring.process import Wiring
from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.harness import APPROVER, Medic
from tests.reliability.test_state_database import audit_events, diagnosed, wait_for
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tests.services.redis import running_redis
from tests.services.silent_tcp import FreezingProxy, stalling_tcp
from tests.services.stalling import stalling_server
from tools.actions import Action, ToolStatus
from tools.clock import VirtualClock
from tools.errors import StateUnavailableError
from tools.proposals import ProposalStatus, ProposalStore
from tools.schema import upgraded
from tools.sim import SimulatedCluster
from tools.transactions import with_retry_budget

HANG = 30  # seconds after which a command is taken for hung (a silent Redis cost ~45 s before)
PURGE = Action("purge_cache", "shop", "recommender", {"pattern": "recommender:*"})


def ended(call: Callable[[], object], what: str) -> list[object]:
    """What ``call`` returned or raised (one item), or a failed test after ``HANG`` seconds:
    run on its own thread, so a hang fails the test instead of holding the suite."""
    done: list[object] = []

    def run() -> None:
        try:
            done.append(call())
        except Exception as exc:
            done.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG)
    assert done, f"{what} still waiting after {HANG} s"
    return done


def in_thread(*args: str) -> Result:
    """``medic ARGS`` run to its end, or a failed test after ``HANG`` seconds."""
    [result] = ended(lambda: CliRunner().invoke(app, list(args)), f"`medic {' '.join(args)}`")
    return cast(Result, result)


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
        "medic: not done: the dry run of purge_cache failed: Redis did not answer within 0.5 s "
        f"(a try's half of redis_timeout_seconds, 1 s; Timeout reading from {silent.url_host})\n"
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
        "purge_cache on shop/recommender failed: Redis did not answer within 0.5 s "
        f"(a try's half of redis_timeout_seconds, 1 s; Timeout reading from 127.0.0.1:{port})"
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


@pytest.fixture
def frozen_later(
    postgres_url: str,  # noqa: F811
) -> Iterator[tuple[str, FreezingProxy]]:
    """A fresh PostgreSQL database behind a proxy that freezes on the first statement naming
    ``proposals`` (after the connection, the server's start-up and the schema check went
    through); the URL to reach it through the proxy."""
    upgraded(create_engine(postgres_url)).dispose()
    port = make_url(postgres_url).port
    assert port is not None
    proxy = FreezingProxy(port, freeze_on=b"proposals")
    url = make_url(postgres_url).set(port=proxy.port).render_as_string(hide_password=False)
    try:
        yield url, proxy
    finally:
        proxy.close()


def test_medic_act_on_a_postgres_frozen_mid_query_says_so_in_one_line(
    frozen_later: tuple[str, FreezingProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, proxy = frozen_later
    monkeypatch.setenv("MEDIC_DATABASE_URL", url)
    monkeypatch.setenv("MEDIC_DATABASE__STATEMENT_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("MEDIC_DATABASE__RETRY_SECONDS", "2")
    result = in_thread(
        "act", "scale", "--target", "shop/recommender", "--param", "replicas=4",
        "--yes", "--cluster", "sim",
    )  # fmt: skip
    assert proxy.froze.is_set()
    assert (result.exit_code, result.stdout) == (4, "")  # not recorded: try again
    assert result.stderr == (
        "medic: not recorded: the state database server did not answer within 3 s "
        "(database.statement_timeout_seconds plus 2 s); try again in a minute\n"
    )
    proxy.thaw()  # answering again: the same command is recorded and runs
    again = in_thread(
        "act", "scale", "--target", "shop/recommender", "--param", "replicas=4",
        "--yes", "--cluster", "sim",
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr


def test_a_click_while_postgres_is_frozen_is_told_so_and_the_bot_goes_on(
    start_medic: Callable[..., Medic],  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    """`medic serve` on PostgreSQL that freezes mid-query: the click is answered "Not recorded"
    within the bound (not a handler stuck for ever), `/healthz` says 503, and once the server
    answers again the same click runs the action, once."""
    upgraded(create_engine(postgres_url)).dispose()
    port = make_url(postgres_url).port
    assert port is not None
    proxy = FreezingProxy(port)
    try:
        medic = start_medic(
            MEDIC_DATABASE_URL=make_url(postgres_url)
            .set(port=proxy.port)
            .render_as_string(hide_password=False),
            MEDIC_DATABASE__STATEMENT_TIMEOUT_SECONDS="1",
            MEDIC_DATABASE__CONNECT_TIMEOUT_SECONDS="1",
            MEDIC_DATABASE__RETRY_SECONDS="1",
        )
        diagnosis, approve = diagnosed(medic)
        proxy.freeze()  # every connection open, nothing answered
        medic.click(diagnosis, approve, APPROVER)
        [told] = wait_for(medic.slack.ephemeral_texts, "the clicker to be told", HANG)
        assert told.startswith("Not recorded: the state database server ")
        assert told.endswith(". Nothing was changed; please try again in a minute.")
        unhealthy = medic.http.get(f"{medic.url}/healthz")
        assert unhealthy.status_code == 503
        assert unhealthy.json()["state"]["error"].startswith("the state database server ")
        proxy.thaw()
        wait_for(lambda: medic.http.get(f"{medic.url}/healthz").status_code == 200, "healthy", HANG)
        medic.click(diagnosis, approve, APPROVER)  # told to try again, the approver does
        medic.settle()
        assert "scaled deployment shop/recommender: 3 -> 6 replicas" in diagnosis.all_text()
        assert audit_events(medic) == ["proposed", "approved", "started", "executed"]
    finally:
        proxy.close()


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_a_silence_dry_run_against_an_alertmanager_that_stalls_is_one_line_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch, mode: Literal["silent", "trickle"]
) -> None:
    """Silent: four 10 s timeouts plus backoff before; trickling: never ended (httpx's timeout is
    per read, and each byte came within it)."""
    monkeypatch.setenv("MEDIC_ALERTMANAGER_TIMEOUT_SECONDS", "1")
    with stalling_server(mode) as (url, arrived):
        monkeypatch.setenv("MEDIC_ALERTMANAGER_URL", url)
        result = in_thread(
            "act", "silence", "--target", "shop/recommender", "--dry-run", "--cluster", "sim",
            "--param", "matchers={namespace: shop, service: recommender}",
            "--param", "duration_minutes=30",
        )  # fmt: skip
    assert arrived.is_set()
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith(
        "medic: not done: the dry run of silence failed: Alertmanager did not answer within "
        "0.5 s (a try's half of alertmanager_timeout_seconds, 1 s; "
    )
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("kind", ["pagerduty", "opsgenie"])
def test_a_write_back_note_to_a_trickling_vendor_api_ends_within_its_tries(kind: str) -> None:
    """A PagerDuty or Opsgenie that answers a byte at a time held the write-back job (one of the
    bot's job threads) for ever; now each try ends within the client's timeout, the note fails
    in one line after its tries, and the job is free."""
    with stalling_server("trickle") as (url, arrived):
        client = httpx.Client(timeout=2)  # >> the 0.05 s between bytes
        retry = NoteRetry(attempts=2, sleep=lambda _s: None)
        target: NoteTarget = (
            PagerDutyNotes(client, token="t" * 20, from_email="m@x.io", api_url=url, retry=retry)
            if kind == "pagerduty"
            else OpsgenieNotes(client, key="k" * 20, api_url=url, retry=retry)
        )
        [error] = ended(lambda: target.add_note("PX1", "diagnosis"), f"the {kind} note")
    assert arrived.is_set()
    assert isinstance(error, NoteError)
    # Each try cut off at 2 s: the answer still coming in (or, on a machine so loaded that the
    # server missed 2 s between two bytes, httpx's own read timeout)
    assert "the answer was still coming in after 2 s" in str(error) or "ReadTimeout" in str(error)
    assert "\n" not in str(error)


def test_a_slack_api_that_trickles_costs_each_call_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Slack client as `medic serve` wires it, against a Slack-compatible server that answers
    a byte at a time: each call is an OSError (what the outbox and the click handlers take for
    "Slack did not answer") within slack.timeout_seconds. Before, the call never ended (urllib's
    timeout is per read, and each byte came within it): the one delivery thread held for ever.
    (A server that never answers was already bounded by that read timeout.)"""
    monkeypatch.setenv("MEDIC_SLACK__TIMEOUT_SECONDS", "3")  # >> the 0.05 s between bytes
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with stalling_server("trickle") as (url, arrived):
        monkeypatch.setenv("MEDIC_SLACK_API_URL", url)
        client = Wiring(load_settings()).slack_client
        [error] = ended(
            lambda: client.chat_postMessage(channel="C0123", text="diagnosis"), "chat.postMessage"
        )
    assert arrived.is_set()
    assert isinstance(error, OSError)
    assert str(error) == "Slack did not answer within 3 s (slack.timeout_seconds)"


def test_a_transaction_waiting_for_a_pooled_connection_is_not_recorded_not_an_error(
    tmp_path: Path,
) -> None:
    """While every pooled connection is held (each waiting on a server that stopped answering),
    one more transaction waits pool_timeout, is retried within retry_seconds, then is "not
    recorded" - the line a clicker is told - instead of an internal error (SQLAlchemy's pool
    TimeoutError escaped every handler before)."""
    engine = create_engine(
        f"sqlite:///{tmp_path / 'state.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    store = ProposalStore(with_retry_budget(upgraded(engine), 0.3))
    # the pool's one connection, held
    with engine.connect(), pytest.raises(StateUnavailableError) as raised:
        store.get("p-1")
    assert raised.value.reason == (
        "every connection to the state database stayed in use (the server is slow to answer)"
    )


class _PauseFails(Worker):
    """A worker whose store fails once as it asks when to look again (the delivery's
    ``next_due`` while the state database is away)."""

    name = "test-worker"

    def __init__(self) -> None:
        super().__init__()
        self.passes = 0
        self.failed = False

    def work(self) -> bool:
        self.passes += 1
        return False

    def settled(self) -> bool:
        return True

    def pause(self) -> float:
        if not self.failed:
            self.failed = True
            raise StateUnavailableError("the state database server cannot be reached")
        return 60.0


def test_a_worker_whose_database_fails_between_passes_keeps_working() -> None:
    """The delivery thread died when the database failed as it asked when the next retry was
    due (a frozen PostgreSQL showed it): no message reached Slack again until a restart."""
    worker = _PauseFails()
    worker.start()
    try:
        wait_for(lambda: worker.failed and worker.passes >= 2, "a pass after the failure", HANG)
        worker.wake()
        wait_for(lambda: worker.passes >= 3, "the next pass when woken", HANG)
    finally:
        worker.stop()
