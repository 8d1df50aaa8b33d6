"""The bot running for real on loopback - uvicorn, Bolt, the outbox - against the fake Slack, with
helpers that speak like Slack and Alertmanager do: signed slash commands, button clicks, events,
webhook posts."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
import yaml
from slack_sdk.signature import SignatureVerifier

from bot.config import load_settings
from bot.demo import scenario_alert
from bot.runtime import build_sim_flow
from bot.slack.decisions import Silencer
from bot.slack.service import MedicService
from knowledge.embeddings import MiniLMEmbedding
from tests.bot.slack.fake_slack import FakeSlack, Message
from tests.conftest import START
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

SECRET = "test-signing-secret"
ALERTS = "C0ALERTS"
WATCHED = "C0WATCH"
APPROVER = "U0APPROVER"
STRANGER = "U0STRANGER"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


def serve_in_thread(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Medic:
    """The bot under test, and the people and systems that talk to it."""

    service: MedicService
    url: str
    slack: FakeSlack
    sim: SimulatedCluster
    http: httpx.Client

    def settle(self, timeout: float = 60) -> None:
        """Wait until every acknowledged request has done its work and reached Slack."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs_idle = self.service.jobs.wait_idle(timeout=deadline - time.monotonic())
            delivered = self.service.delivery.wait_idle(timeout=deadline - time.monotonic())
            if jobs_idle and delivered and self.service.jobs.wait_idle(0):
                return
        raise AssertionError("the bot did not settle")

    # --- Alertmanager ---------------------------------------------------------------------------
    def alert(self, payload: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post(f"{self.url}/alertmanager", json=payload, headers=headers)

    def demo_alert(self, **changes: Any) -> dict[str, Any]:
        payload = scenario_alert(self.sim.scenario, self.sim.anchor)
        payload.update(changes)
        return payload

    # --- Slack ----------------------------------------------------------------------------------
    def signed(self, body: str, content_type: str, **headers: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
        return self.http.post(
            f"{self.url}/slack/events",
            content=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
                **headers,
            },
        )

    def slash(self, text: str, user: str = APPROVER, channel: str = ALERTS) -> httpx.Response:
        form = {
            "token": "x",
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": "/medic",
            "text": text,
            "response_url": f"{self.slack.url}/response/command",
            "trigger_id": "1.2.3",
        }
        return self.signed(urlencode(form), "application/x-www-form-urlencoded")

    def click(self, message: Message, button: dict[str, Any], user: str) -> httpx.Response:
        """``user`` clicks (and confirms) ``button`` of ``message`` - possibly one shown before
        the message changed, as a stale Slack client would."""
        action_id = button["action_id"]
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "channel": {"id": message.channel},
            "container": {"type": "message", "message_ts": message.ts},
            "message": {"ts": message.ts, "text": message.text, "blocks": message.blocks},
            "response_url": f"{self.slack.url}/response/click",
            "trigger_id": "1.2.3",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": button["value"],
                    "action_ts": "1",
                }
            ],
        }
        return self.signed(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    def event(self, event: dict[str, Any], event_id: str, **headers: str) -> httpx.Response:
        body = {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        return self.signed(json.dumps(body), "application/json", **headers)

    # --- reading the channel --------------------------------------------------------------------
    def root(self) -> Message:
        roots = self.slack.roots(ALERTS)
        assert len(roots) == 1, [r.text for r in roots]
        return roots[0]

    def diagnosis(self, root: Message) -> Message:
        found = [m for m in self.slack.thread(root.ts) if "Medic investigated" in m.all_text()]
        assert len(found) == 1, [m.text for m in self.slack.thread(root.ts)]
        return found[0]


def write_config(path: Path, **extra: Any) -> Path:
    config = {
        "alert_channel": ALERTS,
        "watched_channels": [WATCHED],
        "slack": {"approvers": [APPROVER]},
        **extra,
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def seeded_data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedding) -> Path:
    """A data directory whose incident memory is already seeded: copied for each bot, so each
    test does not embed the sample incidents again."""
    path = tmp_path_factory.mktemp("seeded") / "data"
    clock = VirtualClock(START)
    build_sim_flow(
        load_settings(data_dir=path), SimulatedCluster(SCENARIOS["input-size-surge"], clock), clock,
        embedder,
    )  # fmt: skip
    return path


@pytest.fixture
def medic_env(
    tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, seeded_data_dir: Path
) -> Path:
    """The variables an operator sets: tokens, the config file, and the Slack API URL."""
    data = tmp_path / "medic-data"
    shutil.copytree(seeded_data_dir, data)
    monkeypatch.setenv("MEDIC_DATA_DIR", str(data))
    config = write_config(tmp_path / "medic.yaml")
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("MEDIC_SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setenv("MEDIC_CLUSTER", "sim")
    return config


@pytest.fixture
def start_medic(
    medic_env: Path,
    fake_slack: FakeSlack,
    sim: SimulatedCluster,
    clock: VirtualClock,
    embedder: MiniLMEmbedding,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Medic]]:
    """Start the bot with extra environment variables (all stopped at the end of the test)."""
    running: list[tuple[uvicorn.Server, threading.Thread, MedicService, httpx.Client]] = []

    def start(silencer: Silencer | None = None, **env: str) -> Medic:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = load_settings()
        flow = build_sim_flow(settings, sim, clock, embedder)
        service = MedicService(settings, flow, silencer=silencer)
        service.start()
        server, thread, url = serve_in_thread(service.asgi)
        http = httpx.Client(timeout=30)
        running.append((server, thread, service, http))
        return Medic(service, url, fake_slack, sim, http)

    yield start
    for server, thread, service, http in running:
        http.close()
        server.should_exit = True
        thread.join(timeout=10)
        service.stop()


@pytest.fixture
def medic(start_medic: Callable[..., Medic]) -> Medic:
    return start_medic()
