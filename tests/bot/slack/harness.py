"""The bot under test as Slack and Alertmanager see it: served on loopback, with helpers that
send what they send - signed slash commands, button clicks, events, webhook posts. Used by the
tests (through fixtures in conftest.py) and by benchmarks/bench_slack.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
import yaml
from slack_sdk.signature import SignatureVerifier

from bot.demo import scenario_alert
from bot.diagnosis.budget import Budget
from bot.diagnosis.investigation import Investigation
from bot.incidents import Incident
from bot.slack.front import FrontProcess
from bot.slack.service import FrontedServer, MedicService, listen
from tests.bot.slack.fake_slack import BOT_USER, FakeSlack, Message, decode
from tools.sim import SimulatedCluster

SECRET = "test-signing-secret"
ALERTS = "C0ALERTS"
WATCHED = "C0WATCH"
APPROVER = "U0APPROVER"
STRANGER = "U0STRANGER"
APPROVER_GROUP = "@sre-oncall"
STARTUP_SECONDS = 60.0  # generous: CI machines are busy, and a start that never comes still fails


def serve_in_thread(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "the bot's server to start")
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def serve_fronted(service: MedicService) -> tuple[FrontedServer, threading.Thread, str]:
    """The bot as `medic serve` runs it: the webhook in the front process on an ephemeral port,
    the rest behind it."""
    listener = listen("127.0.0.1", 0)
    fronted = FrontedServer(service, listener, log_level="warning")
    thread = threading.Thread(target=fronted.run, daemon=True)
    thread.start()
    wait_for(lambda: fronted.server.started, "the bot's server to start")
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    # The front is a new Python process (seconds of imports on a busy machine): a test's first
    # request should not spend its own timeout on that.
    wait_for(lambda: answers(f"{url}/healthz"), "the front process to answer")
    return fronted, thread, url


def wait_for(condition: Callable[[], object], what: str, timeout: float = STARTUP_SECONDS) -> None:
    """Poll ``condition`` until it holds; a clear failure, not a test that goes on regardless,
    when it does not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.01)


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return False
    return True


@dataclass
class Medic:
    """The bot under test, and the people and systems that talk to it."""

    service: MedicService
    url: str
    slack: FakeSlack
    sim: SimulatedCluster
    http: httpx.Client
    front: FrontProcess | None = None  # the front process, when run as `medic serve` runs it
    mentions_sent: int = 0

    def settle(self, timeout: float = 60) -> None:
        """Wait until every acknowledged request has done its work and reached Slack."""
        assert self.service.settle(timeout), "the bot did not settle"

    def hold_investigations(self) -> threading.Event:
        """Investigations wait until the returned event is set (at most 120 s: a guard against a
        hang, not a time the test may take)."""
        release = threading.Event()
        flow = self.service.threads.flow
        investigate = flow.investigate

        def held(incident: Incident, budget: Budget | None = None) -> Investigation:
            release.wait(timeout=120)  # a guard against a hang: the test sets it
            return investigate(incident, budget)

        flow.investigate = held  # type: ignore[method-assign]
        return release

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

    def click(
        self, message: Message, button: dict[str, Any], user: str, **changes: Any
    ) -> httpx.Response:
        """``user`` clicks (and confirms) ``button`` of ``message`` - possibly one shown before
        the message changed, as a stale Slack client would; ``changes`` replace fields of the
        payload Slack would send (a hostile client's)."""
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
            **changes,
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

    def mention(
        self,
        text: str,
        *,
        thread: Message | None = None,
        user: str = APPROVER,
        channel: str = ALERTS,
        **headers: str,
    ) -> httpx.Response:
        """``user`` writes "@medic ``text``" in ``thread`` (or at the top of ``channel``)."""
        self.mentions_sent += 1
        ts = f"1800000100.{self.mentions_sent:06d}"
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": ts,
            "channel": thread.channel if thread else channel,
            "event_ts": ts,
        }
        if thread is not None:
            event["thread_ts"] = thread.ts
        return self.event(event, f"EvMention{self.mentions_sent}", **headers)

    def answers(self, root_ts: str) -> list[str]:
        """Medic's answers to people in the thread of ``root_ts``, oldest first."""
        return [
            decode(m.blocks[0]["text"]["text"])
            for m in self.slack.thread(root_ts)
            if m.blocks and m.blocks[0].get("block_id") == "answer"
        ]

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
    """MEDIC_CONFIG for the bot, with a policy (beside it) whose approvers are APPROVER and the
    members of APPROVER_GROUP."""
    policy = yaml.safe_load(resources.files("tools").joinpath("default_policy.yaml").read_text())
    policy["approvers"] = [{"users": [APPROVER]}, {"groups": [APPROVER_GROUP]}]
    policy_file = path.with_name("policy.yaml")
    policy_file.write_text(yaml.safe_dump(policy))
    config = {
        "alert_channel": ALERTS,
        "watched_channels": [WATCHED],
        "policy": policy_file.name,
        **extra,
    }
    path.write_text(yaml.safe_dump(config))
    return path
