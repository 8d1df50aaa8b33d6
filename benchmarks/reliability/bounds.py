"""Bounded work (issue 11, item 1), measured against a baseline taken in the same run:

- memory: `medic investigate --alert` (simulated cluster, address space capped at 3 GiB) for an
  alert that began 5 minutes ago (the baseline), 2 days ago, on 2000-01-02 and 3 hours ahead of
  the clock: exit code, wall time and peak RSS of each. Target: every run succeeds and peaks
  within ``--rss-slack`` MiB of the baseline.
- stop: `medic serve` stopped by SIGTERM when idle (the baseline) and while an investigation
  waits on a Prometheus that never answers (300 s request timeout): seconds from the signal to the
  exit (given up after ``--stop-wait``). Target: exit code 0 within ``--stop-target`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.bot.slack.fake_slack import FakeSlack
from tests.services.binaries import free_port
from tests.services.capped import capped
from tests.services.stalling import stalling_server

MEDIC = str(Path(sys.executable).with_name("medic"))
LABELS = {"alertname": "RecommenderLatencyHigh", "service": "recommender", "namespace": "shop"}
ADDRESS_SPACE = 3 * 1024**3


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--rss-slack", type=float, default=100.0, help="MiB over the baseline")
    group.add_argument("--stop-target", type=float, default=30.0, help="seconds to exit")
    group.add_argument("--stop-wait", type=float, default=120.0, help="seconds before killing")


def investigate(tmp: Path, name: str, starts_at: datetime) -> dict[str, Any]:
    alert = tmp / f"{name}.json"
    alert.write_text(json.dumps({"version": "4", "alerts": [
        {"status": "firing", "labels": LABELS, "startsAt": starts_at.isoformat()}
    ]}))  # fmt: skip
    started = time.perf_counter()
    with (tmp / f"{name}.out").open("w") as out:
        process = subprocess.Popen(
            capped([MEDIC, "investigate", "--alert", str(alert), "--cluster", "sim", "--json"],
                   ADDRESS_SPACE),
            env={**os.environ, "MEDIC_DATA_DIR": str(tmp / name)},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    lines = (tmp / f"{name}.out").read_text().splitlines()
    notes = json.loads(lines[-1])["notes"] if code == 0 else lines[-1:]
    return {"exit": code, "seconds": round(time.perf_counter() - started, 2),
            "rss_mib": round(usage.ru_maxrss / 1024), "notes": notes}  # fmt: skip


def serve_and_stop(
    tmp: Path,
    name: str,
    slack: FakeSlack,
    prometheus: tuple[str, threading.Event] | None,
    wait: float,
) -> float | None:
    """Seconds from SIGTERM to exit (None: still running after ``wait``, or a failed exit);
    with a (silent) ``prometheus``, sent while an alert's investigation waits on it."""
    port = free_port()
    env = {**os.environ, "MEDIC_CLUSTER": "sim", "MEDIC_DATA_DIR": str(tmp / name),
           "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "secret",
           "MEDIC_ALERT_CHANNEL": "C0ALERTS", "MEDIC_SLACK_API_URL": slack.api_url}  # fmt: skip
    if prometheus:
        env.update({"MEDIC_METRICS__SOURCE": "prometheus", "MEDIC_METRICS__PROMETHEUS_URL":
                    prometheus[0], "MEDIC_METRICS__TIMEOUT_SECONDS": "300"})  # fmt: skip
    with (tmp / f"{name}.log").open("w") as log:
        process = subprocess.Popen([MEDIC, "serve", "--port", str(port)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        if prometheus:
            started = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
            alert = {"status": "firing", "labels": LABELS, "startsAt": started}
            httpx.post(f"{url}/alertmanager", json={"alerts": [alert]})
            prometheus[1].wait(120)  # the investigation is waiting on Prometheus
        signalled = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None
        return round(time.perf_counter() - signalled, 2) if code == 0 else None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run(args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC)
    starts = {"fresh (baseline)": now - timedelta(minutes=5), "2 days ago": now - timedelta(days=2),
              "2000-01-02": datetime(2000, 1, 2, tzinfo=UTC),
              "3 h ahead": now + timedelta(hours=3)}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="medic-bench-bounds-") as name:
        tmp = Path(name)
        memory = {label: investigate(tmp, f"inv{i}", at) for i, (label, at) in
                  enumerate(starts.items())}  # fmt: skip
        slack = FakeSlack()
        try:
            with stalling_server("silent") as prometheus:
                stop = {
                    "idle (baseline)": serve_and_stop(tmp, "idle", slack, None, args.stop_wait),
                    "mid-investigation": serve_and_stop(
                        tmp, "busy", slack, prometheus, args.stop_wait
                    ),
                }
        finally:
            slack.close()
    baseline = memory["fresh (baseline)"]["rss_mib"]
    for label, row in memory.items():
        print(f"  investigate, alert started {label:18} exit {row['exit']}  {row['seconds']:6.2f} s"
              f"  peak RSS {row['rss_mib']:5d} MiB ({row['rss_mib'] - baseline:+d})")  # fmt: skip
    for label, seconds in stop.items():
        outcome = f"exit 0 after {seconds:.2f} s" if seconds is not None else "no clean exit"
        print(f"  medic serve, SIGTERM {label:18} {outcome}")
    met = all(
        r["exit"] == 0 and r["rss_mib"] <= baseline + args.rss_slack for r in memory.values()
    ) and all(s is not None and s <= args.stop_target for s in stop.values())
    return {"investigations": memory, "stop_seconds": stop, "target_met": met}
