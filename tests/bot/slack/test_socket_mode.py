"""Socket Mode: with SLACK_APP_TOKEN set, Slack talks to Medic over a WebSocket that Medic opens
(here a local WebSocket server standing in for Slack's); the webhook and health endpoints stay."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import ALERTS, APPROVER, Medic


class SocketModeSlack:
    """Slack's side of a Socket Mode connection: says hello, sends envelopes, collects acks."""

    def __init__(self) -> None:
        self.outgoing: queue.Queue[dict[str, Any]] = queue.Queue()
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = threading.Event()
        self._server = serve(self._session, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=t"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _session(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        self.connected.set()
        while True:
            try:
                envelope = self.outgoing.get(timeout=0.05)
                connection.send(json.dumps(envelope))
            except queue.Empty:
                pass
            try:
                message = connection.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:
                return
            self.acks.put(json.loads(message))

    def slash(self, envelope_id: str, text: str, response_url: str) -> dict[str, Any]:
        """Send a slash command; returns Medic's acknowledgement."""
        self.outgoing.put(
            {
                "envelope_id": envelope_id,
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "team_id": "T1",
                    "channel_id": ALERTS,
                    "user_id": APPROVER,
                    "command": "/medic",
                    "text": text,
                    "response_url": response_url,
                    "trigger_id": "1.2.3",
                },
            }
        )
        return self.acks.get(timeout=60)

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture
def socket_slack(fake_slack: FakeSlack) -> Iterator[SocketModeSlack]:
    slack = SocketModeSlack()
    fake_slack.socket_url = slack.url
    yield slack
    slack.close()


def test_slash_commands_over_socket_mode(
    start_medic: Callable[..., Medic], socket_slack: SocketModeSlack
) -> None:
    medic = start_medic(SLACK_APP_TOKEN="xapp-test")
    assert socket_slack.connected.wait(timeout=60)
    assert medic.slack.calls_to("apps.connections.open")

    ack = socket_slack.slash("env-1", "help", f"{medic.slack.url}/response/1")
    assert ack["envelope_id"] == "env-1" and "/medic search TEXT" in ack["payload"]["text"]

    ack = socket_slack.slash("env-2", "status", f"{medic.slack.url}/response/2")
    assert ack["envelope_id"] == "env-2"
    medic.settle()
    assert medic.slack.ephemeral_texts()[-1] == "No open incidents and no pending proposals."

    # The HTTP Slack endpoint is gone; the webhook and health endpoints stay.
    assert medic.http.post(f"{medic.url}/slack/events", content=b"{}").status_code == 404
    assert medic.http.get(f"{medic.url}/healthz").json()["slack"] == "socket_mode"
    assert medic.alert(medic.demo_alert()).status_code == 200
