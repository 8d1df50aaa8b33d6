"""`medic serve` as an operator starts it: what is missing is named; with the three variables set
it serves health and metrics until stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from bot.errors import ConfigError
from bot.slack.service import listen
from tests.bot.slack.fake_slack import FakeSlack
from tests.services.binaries import free_port


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "choose a cluster explicitly"),
        ({"MEDIC_CLUSTER": "kube"}, "set SLACK_BOT_TOKEN"),
        ({"MEDIC_CLUSTER": "sim"}, "set SLACK_BOT_TOKEN"),
        ({"MEDIC_CLUSTER": "sim", "SLACK_BOT_TOKEN": "xoxb-1"}, "set SLACK_SIGNING_SECRET"),
        (
            {"MEDIC_CLUSTER": "sim", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
            "set MEDIC_ALERT_CHANNEL",
        ),
    ],
)
def test_missing_configuration_is_named(
    env: dict[str, str], problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2 and problem in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_named() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}: Address"):
            listen("127.0.0.1", port)


@pytest.mark.slow
def test_serve_runs_until_stopped(fake_slack: FakeSlack, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MEDIC_CLUSTER": "sim",
        "MEDIC_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "MEDIC_ALERT_CHANNEL": "C0ALERTS",
        "MEDIC_SLACK_API_URL": fake_slack.api_url,
    }
    medic = Path(sys.executable).with_name("medic")
    process = subprocess.Popen(
        [str(medic), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300  # its start took 91 s at load 15
        while True:
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "medic serve did not start"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert "medic_alerts_received" in metrics and "medic_intake_seconds" in metrics
        # Alertmanager's webhook, answered by the front process, handled by the bot behind it.
        alert = {"status": "firing", "labels": {"alertname": "Down", "service": "payments"},
                 "startsAt": "2027-01-15T08:00:00Z"}  # fmt: skip
        answer = httpx.post(f"http://127.0.0.1:{port}/alertmanager", json={"alerts": [alert]})
        assert answer.status_code == 200
        while not (fake_slack.roots() and fake_slack.thread(fake_slack.roots()[0].ts)):
            assert time.monotonic() < deadline, "the alert never reached the bot"
            time.sleep(0.1)
        (warning,) = fake_slack.thread(fake_slack.roots()[0].ts)  # in the alert's thread
        assert "unknown service" in warning.all_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    with pytest.raises(httpx.ConnectError):  # the front process is gone too
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
