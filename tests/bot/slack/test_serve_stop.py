"""`medic serve` stops when asked, even in the middle of an investigation that would take for ever,
and the investigation it left is done at the next start: nothing is lost."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.bot.slack.fake_slack import FakeSlack
from tests.services.binaries import free_port
from tests.services.stalling import stalling_server

pytestmark = pytest.mark.slow

# Seconds from SIGTERM to exit, beyond which the stop did not end the investigation: its own
# bounds (a Prometheus request waits half the default 60 s budget) would end it only later.
STOPPED_WITHIN = 25


@contextmanager
def medic_serve(
    fake_slack: FakeSlack, data: Path, prometheus: str, log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`medic serve --cluster sim` reading its metrics from ``prometheus``, waiting up to five
    minutes for an answer (which the investigation's default budget cuts to 30 s)."""
    port = free_port()
    env = {
        **os.environ,
        "MEDIC_CLUSTER": "sim",
        "MEDIC_DATA_DIR": str(data),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "MEDIC_ALERT_CHANNEL": "C0ALERTS",
        "MEDIC_SLACK_API_URL": fake_slack.api_url,
        "MEDIC_METRICS__SOURCE": "prometheus",
        "MEDIC_METRICS__PROMETHEUS_URL": prometheus,
        "MEDIC_METRICS__TIMEOUT_SECONDS": "300",
    }
    medic = Path(sys.executable).with_name("medic")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(medic), "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # its start took 91 s at load 15
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "medic serve did not start"
                time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stopped(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=STOPPED_WITHIN)


def test_sigterm_stops_medic_serve_mid_investigation_and_the_next_start_finishes_it(
    fake_slack: FakeSlack, seeded_data_dir: Path, tmp_path: Path
) -> None:
    data, log = tmp_path / "data", tmp_path / "medic.log"
    shutil.copytree(seeded_data_dir, data)
    starts_at = datetime.now(UTC) - timedelta(minutes=5)
    labels = {"alertname": "HighLatency", "service": "recommender", "namespace": "shop"}
    alert = {"status": "firing", "startsAt": starts_at.isoformat(), "labels": labels}
    with (
        stalling_server("silent") as (prometheus, asked),
        medic_serve(fake_slack, data, prometheus, log) as (process, url),
    ):
        assert httpx.post(f"{url}/alertmanager", json={"alerts": [alert]}).status_code == 200
        assert asked.wait(60), "the investigation never asked Prometheus"
        assert stopped(process) == 0  # while the investigation waits on Prometheus
    [root] = fake_slack.roots()
    assert fake_slack.thread(root.ts) == []  # no diagnosis, and no failure either

    gone = f"http://127.0.0.1:{free_port()}"  # Prometheus is down now
    with medic_serve(fake_slack, data, gone, log) as (process, _):
        deadline = time.monotonic() + 60
        while not fake_slack.thread(root.ts):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        assert stopped(process) == 0
    assert "resumed 1 interrupted investigation(s)" in log.read_text()
    [diagnosis] = fake_slack.thread(root.ts)
    text = diagnosis.all_text()
    assert "Medic investigated INC-0001" in text
    assert f"Prometheus at {gone} is unreachable" in text
